"""The manifests of deploy/kubernetes as the tests see them: the code's facts they must agree
with (the service catalog, the flags the source declares) and the rendered kustomizations."""

import copy
import functools
import os
import pathlib
import re

try:
    import yaml
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImportError("PyYAML is missing: install Debian's python3-yaml") from error


REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
PROMETHEUS = DEPLOY / "prometheus"
BIN_DIR = pathlib.Path(os.environ.get("FABRIQUE_BIN_DIR", REPO / "build" / "bin"))

# Every kustomization the tests render; an overlay added later belongs here too.
KUSTOMIZATIONS = ["base", "overlays/dev", "overlays/dev-insecure", "overlays/prod"]
# The ones whose services run --insecure (plaintext, no authentication); their name says so.
INSECURE_KUSTOMIZATIONS = ["overlays/dev-insecure"]
# Kustomize components: never rendered alone, only as part of the kustomizations that use them.
COMPONENTS = ["components/pod-defaults"]


@functools.lru_cache(maxsize=None)
def catalog():
    """The six services as libs/client/service_catalog.cc declares them: name, binary, gRPC
    port, metrics port, stateful, health service names."""
    source = (REPO / "libs" / "client" / "service_catalog.cc").read_text()
    entry = re.compile(
        r'\{\s*"(?P<name>[a-z]+)",\s*"(?P<binary>fabrique-[a-z]+)",\s*(?P<port>\d+),\s*'
        r'(?P<metrics_port>\d+),\s*(?P<stateful>true|false),\s*\{(?P<health>[^}]*)\}')
    services = []
    for match in entry.finditer(source):
        services.append({
            "name": match["name"],
            "binary": match["binary"],
            "port": int(match["port"]),
            "metrics_port": int(match["metrics_port"]),
            "stateful": match["stateful"] == "true",
            "health": re.findall(r'"([^"]+)"', match["health"]),
        })
    assert len(services) == 6, (
        f"found {len(services)} services in libs/client/service_catalog.cc, expected 6; "
        "if the table changed shape, update the regex in tests/deploy/deploy_manifests.py")
    return services


SERVICE_NAMES = ["features", "registry", "trainer", "inference", "monitor", "tower"]


def service(name):
    return next(s for s in catalog() if s["name"] == name)


def load_documents(path):
    with open(path) as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def kustomization(directory):
    return yaml.safe_load((KUBERNETES / directory / "kustomization.yaml").read_text())


# A small kustomize: enough for the features these kustomizations use, and it refuses any other,
# so that it cannot silently render something else than kustomize would. It renders where no
# kubectl is installed; where one is, test_rendering_matches_kubectl_kustomize compares the two.
SUPPORTED_KEYS = {"apiVersion", "kind", "namespace", "resources", "components", "labels",
                  "images", "patches"}


def json_patch(document, operations):
    for operation in operations:
        keys = [k.replace("~1", "/").replace("~0", "~") for k in operation["path"].split("/")[1:]]
        parent = document
        for key in keys[:-1]:
            parent = parent[int(key)] if isinstance(parent, list) else parent[key]
        last = keys[-1]
        op = operation["op"]
        if isinstance(parent, list):
            if op == "add":
                parent.insert(len(parent) if last == "-" else int(last), operation["value"])
            elif op == "replace":
                parent[int(last)] = operation["value"]
            elif op == "remove":
                del parent[int(last)]
            else:
                raise AssertionError(f"unsupported patch op {op}")
        else:
            if op in ("add", "replace"):
                assert op == "add" or last in parent, f"replace of missing {operation['path']}"
                parent[last] = operation["value"]
            elif op == "remove":
                del parent[last]
            else:
                raise AssertionError(f"unsupported patch op {op}")


def pod_spec(obj):
    return obj["spec"]["template"]["spec"] if obj["kind"] in (
        "Deployment", "StatefulSet", "DaemonSet", "Job") else None


def selector_matches(selector, labels):
    """A label selector in kustomize's string form: key=value and key!=value, comma-separated."""
    for term in selector.split(","):
        key, negated, value = re.fullmatch(r"\s*([\w./-]+)\s*(!?)=\s*([\w.-]*)\s*", term).groups()
        if (labels.get(key) == value) == bool(negated):
            return False
    return True


def target_matches(target, obj):
    """A patch target: kind (an anchored regular expression, as kustomize reads it), name and
    labelSelector."""
    assert set(target) <= {"kind", "name", "labelSelector"}, f"unsupported patch target {target}"
    return (re.fullmatch(target.get("kind", ".*"), obj.get("kind", ""))
            and target.get("name", obj["metadata"]["name"]) == obj["metadata"]["name"]
            and selector_matches(target.get("labelSelector", "x!=y"),
                                 obj["metadata"].get("labels", {})))


def apply_patches(folder, k, objects):
    for patch in k.get("patches", []):
        target = patch.get("target", {})
        operations = (yaml.safe_load(patch["patch"]) if "patch" in patch
                      else load_documents(folder / patch["path"])[0])
        matched = [o for o in objects if target_matches(target, o)]
        assert matched, f"{folder}: patch target {target} matches nothing"
        if isinstance(operations, dict):
            # The one strategic-merge patch supported: deleting every object the target matches.
            assert operations.get("$patch") == "delete" and target, (
                "only JSON 6902 patches and targeted `$patch: delete` are supported")
            objects = [o for o in objects if all(o is not m for m in matched)]
            continue
        assert isinstance(operations, list), "only JSON 6902 patches are supported"
        for obj in matched:
            json_patch(obj, operations)
    return objects


@functools.lru_cache(maxsize=None)
def _render(folder):
    return _build(folder, ())


def _build(folder, accumulated):
    """Kustomize's order: resources, then each component (its resources, then its patches, over
    everything so far), then this kustomization's own patches, labels, images and namespace."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unsupported = set(k) - SUPPORTED_KEYS
    assert not unsupported, f"{folder}: the test's renderer does not know {unsupported}"
    objects = copy.deepcopy(list(accumulated))
    for resource in k.get("resources", []):
        path = (folder / resource).resolve()
        objects += copy.deepcopy(_render(path)) if path.is_dir() else load_documents(path)
    for component in k.get("components", []):
        path = (folder / component).resolve()
        assert kustomization(path.relative_to(KUBERNETES))["kind"] == "Component", path
        objects = _build(path, objects)
    objects = apply_patches(folder, k, objects)
    for labels in k.get("labels", []):
        assert not labels.get("includeSelectors") and not labels.get("includeTemplates"), \
            "the test's renderer supports only metadata labels"
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(labels["pairs"])
    for image in k.get("images", []):
        for obj in objects:
            spec = pod_spec(obj)
            for container in (spec or {}).get("containers", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = (image.get("newName", name) + ":"
                                          + str(image.get("newTag", tag or "latest")))
    if "namespace" in k:
        for obj in objects:
            if obj["kind"] == "Namespace":
                obj["metadata"]["name"] = k["namespace"]
            else:
                obj["metadata"]["namespace"] = k["namespace"]
    return objects


def render(directory):
    return copy.deepcopy(_render((KUBERNETES / directory).resolve()))


def find(objects, kind, name):
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def flags_of(container):
    """--name=value flags of a container's command line, as a dict; asserts each is --x=y."""
    flags = {}
    for argument in container.get("command", [])[1:] + container.get("args", []):
        match = re.fullmatch(r"--([a-z_]+)=(.*)", argument)
        assert match, f"argument {argument!r} is not --flag=value"
        assert match[1] not in flags, f"--{match[1]} given twice"
        flags[match[1]] = match[2]
    return flags


def the_container(workload):
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: expected one container"
    return containers[0]


def key_of(obj):
    return f"{obj['kind']}/{obj['metadata']['name']}"


def declared_flags(s):
    """Flags the source declares for a service: the shared ones of libs/server/service_flags.cc
    (--data_dir only for stateful services) and its own in services/<name>/."""
    add = re.compile(r'\.Add\(\s*"([a-z_]+)"')
    names = set(add.findall((REPO / "libs" / "server" / "service_flags.cc").read_text()))
    for source in (REPO / "services" / s["name"]).rglob("*.cc"):
        names |= set(add.findall(source.read_text()))
    if not s["stateful"]:
        names.discard("data_dir")
    return names


def target_peer(flag):
    """The service a --*_target flag names: --<peer>_target, or the tower for --bindings_target
    (the squads' role bindings, which the tower holds)."""
    return "tower" if flag == "bindings_target" else flag[:-len("_target")]


@functools.lru_cache(maxsize=None)
def calls_in_code():
    """{service: the services it calls}, from the --*_target flags its source declares. Each
    must be given in a pod, whose default (127.0.0.1) is the pod itself; the tower's own
    --bindings_target aside, as it holds the bindings (`fabrique up` does the same)."""
    calls = {}
    for s in catalog():
        peers = {target_peer(f) for f in declared_flags(s) if f.endswith("_target")}
        assert peers <= set(SERVICE_NAMES), f"{s['name']}: a target names no service: {peers}"
        calls[s["name"]] = peers - {s["name"]}
    return calls
