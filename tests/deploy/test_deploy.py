"""Checks deploy/: the Prometheus rules and config pass promtool, and the Kubernetes manifests
agree with the code they deploy (the port table of libs/client/service_catalog.cc, the flags of
the binaries, the data folder, the shutdown grace).

Run with Debian's Python: /usr/bin/python3 -m pytest -q tests/deploy
Needs python3-yaml and promtool (Debian's prometheus package); kubectl and build/bin are used
when present. The schemas, the Pod Security profile, the network paths and the prod overlay have
their own files beside this one.
"""

import functools
import re
import shutil
import subprocess

import pytest
import yaml

from deploy_manifests import (BIN_DIR, COMPONENTS, DEPLOY, INSECURE_KUSTOMIZATIONS, KUBERNETES,
                              KUSTOMIZATIONS, PROMETHEUS, REPO, SERVICE_NAMES, calls_in_code,
                              catalog, declared_flags, find, flags_of, key_of, kustomization,
                              load_documents, pod_spec, render, service, target_peer,
                              the_container)

# gRPC codes that mean the server failed, not the caller (the brief of rules.yaml).
SERVER_FAULT_CODES = {"UNKNOWN", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "DEADLINE_EXCEEDED"}


# --- The code's own facts -----------------------------------------------------------------------

def test_catalog_has_the_six_services():
    assert sorted(s["name"] for s in catalog()) == sorted(SERVICE_NAMES)


@functools.lru_cache(maxsize=None)
def streaming_methods():
    """Method names of every streaming call in protos/fabrique and protos/inference, and of every
    unary one: {"streaming": set, "unary": set}."""
    rpc = re.compile(r"\brpc\s+(\w+)\s*\(\s*(stream\s+)?[\w.]+\s*\)\s*returns\s*\(\s*(stream\s+)?")
    found = {"streaming": set(), "unary": set()}
    for proto in sorted((REPO / "protos").rglob("*.proto")):
        if proto.relative_to(REPO / "protos").parts[0] == "grpc":
            continue  # health and reflection: left out of the rules by service name
        for match in rpc.finditer(proto.read_text()):
            found["streaming" if match[2] or match[3] else "unary"].add(match[1])
    assert found["unary"], "no rpc found under protos/; has the layout changed?"
    return found


def parse_duration(text):
    """Seconds in an absl duration flag value such as 20s, 1m30s or 500ms."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


# --- promtool -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (tools/setup does)")
    return path


def run_promtool(promtool, *args):
    result = subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, (
        f"promtool {' '.join(args)} failed ({result.returncode}):\n"
        f"{result.stdout}{result.stderr}")


def test_promtool_check_rules(promtool):
    run_promtool(promtool, "check", "rules", "deploy/prometheus/rules.yaml")


def test_promtool_test_rules(promtool):
    run_promtool(promtool, "test", "rules", "deploy/prometheus/rules_test.yaml")


def test_promtool_check_config(promtool):
    run_promtool(promtool, "check", "config", "deploy/prometheus/prometheus.yaml")


def test_local_scrape_config_targets_every_metrics_port():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yaml").read_text())
    assert "rules.yaml" in config["rule_files"]
    jobs = {job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
            for job in config["scrape_configs"]}
    assert jobs == {s["binary"]: [f"127.0.0.1:{s['metrics_port']}"] for s in catalog()}


# --- Prometheus rules ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def rules():
    groups = yaml.safe_load((PROMETHEUS / "rules.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_has_for_severity_summary_and_description():
    alerts = [r for r in rules() if "alert" in r]
    assert alerts, "rules.yaml has no alerting rule"
    for alert in alerts:
        name = alert["alert"]
        assert re.fullmatch(r"\d+[smh]", str(alert.get("for", ""))), f"{name}: no `for:`"
        assert alert.get("labels", {}).get("severity") in {"critical", "warning", "info"}, (
            f"{name}: severity label missing or not critical/warning/info")
        annotations = alert.get("annotations", {})
        for key in ("summary", "description"):
            assert annotations.get(key, "").strip(), f"{name}: no {key} annotation"


def service_metric_names():
    """The metric names a service registers itself (prometheus-cpp's .Name("...") in services/)."""
    names = set()
    for source in (REPO / "services").rglob("*.cc"):
        names.update(re.findall(r'\.Name\("(fabrique_[a-z_]+)"\)', source.read_text()))
    return names


def test_rules_cover_every_service_and_only_real_metrics():
    recorded = {}
    for rule in rules():
        if "record" in rule:
            svc = rule.get("labels", {}).get("fabrique_service")
            recorded.setdefault(rule["record"], set()).add(svc)
    for record in ("fabrique_service:rpc_requests:rate5m",
                   "fabrique_service:rpc_server_errors:rate5m",
                   "fabrique_service:rpc_duration_seconds_bucket:rate5m"):
        assert recorded.get(record) == set(SERVICE_NAMES), f"{record} is not recorded per service"
    for name in ("FabriqueServiceDown", "FabriqueServiceAbsent", "FabriqueHighErrorRatio",
                 "FabriqueHighLatencyP99"):
        assert any(r.get("alert") == name for r in rules()), f"alert {name} is missing"

    metric = re.compile(r"\bfabrique_([a-z]+)_(rpc_requests_total|rpc_duration_seconds_bucket|"
                        r"rpc_duration_seconds|rpc_in_flight|build_info|[a-z_]+)\b")
    exported = service_metric_names()
    for rule in rules():
        for svc, what in metric.findall(rule["expr"]):
            assert svc in SERVICE_NAMES, f"{rule['expr']!r} names an unknown service {svc}"
            assert (what in {"rpc_requests_total", "rpc_duration_seconds_bucket"}
                    or f"fabrique_{svc}_{what}" in exported), (
                f"{rule['expr']!r} uses fabrique_{svc}_{what}, which no service exports")
        for codes in re.findall(r'code=~"([^"]*)"', rule["expr"]):
            assert set(codes.split("|")) == SERVER_FAULT_CODES, rule["expr"]
    for s in catalog():
        assert f'absent(up{{job="{s["binary"]}"}})' in next(
            r["expr"] for r in rules() if r.get("alert") == "FabriqueServiceAbsent")


def test_latency_rules_leave_out_every_streaming_method_and_no_unary_one():
    methods = streaming_methods()
    latency_rules = [r for r in rules()
                     if r.get("record") == "fabrique_service:rpc_duration_seconds_bucket:rate5m"]
    for rule in latency_rules:
        excluded = re.search(r'method!~"([^"]*)"', rule["expr"])
        assert excluded, f"latency rule does not leave out streaming calls: {rule['expr']}"
        pattern = re.compile(excluded[1])
        missing = sorted(m for m in methods["streaming"] if not pattern.fullmatch(m))
        assert not missing, f"streaming methods counted in latency: {missing} ({rule['expr']})"
        caught = sorted(m for m in methods["unary"] if pattern.fullmatch(m))
        assert not caught, f"unary methods left out of latency: {caught} ({rule['expr']})"


# --- Kubernetes manifests -----------------------------------------------------------------------

def patch_files():
    """The files kustomizations name as JSON 6902 patches (lists of operations)."""
    return {(KUBERNETES / d / p["path"]).resolve() for d in KUSTOMIZATIONS + COMPONENTS
            for p in kustomization(d).get("patches", []) if "path" in p}


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert files
    patches = patch_files()
    for path in files:
        documents = load_documents(path)
        assert documents, f"{path} is empty"
        if path.resolve() in patches:
            assert len(documents) == 1 and isinstance(documents[0], list), f"{path}: not a patch"
            for operation in documents[0]:
                assert set(operation) <= {"op", "path", "value"} and operation["path"], path
            continue
        for doc in documents:
            assert isinstance(doc, dict), f"{path}: a document is not a mapping"
            if KUBERNETES in path.parents:
                assert doc.get("apiVersion") and doc.get("kind"), f"{path}: apiVersion/kind?"
                if doc["kind"] not in ("Kustomization", "Component"):
                    assert doc.get("metadata", {}).get("name"), f"{path}: a {doc['kind']} "
                    "has no name"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS + COMPONENTS)
def test_kustomization_lists_every_file_and_nothing_else(directory):
    """Every YAML file of the folder is a resource or a patch (a script beside, such as
    overlays/prod/prometheus_rule.py, is not a manifest)."""
    folder = KUBERNETES / directory
    k = kustomization(directory)
    listed = []
    for resource in k.get("resources", []):
        assert (folder / resource).exists(), f"{directory}: lists {resource}, which is missing"
        if (folder / resource).is_file():
            listed.append(resource)
    listed += [p["path"] for p in k.get("patches", []) if "path" in p]
    listed = sorted(set(listed))  # one patch file may serve several targets
    present = sorted(p.name for p in folder.iterdir()
                     if p.is_file() and p.suffix == ".yaml" and p.name != "kustomization.yaml")
    assert listed == present, f"{directory}: kustomization.yaml lists {sorted(listed)}, " \
        f"the folder holds {present}"


def test_every_kustomization_is_rendered_here():
    found = sorted(str(p.parent.relative_to(KUBERNETES))
                   for p in KUBERNETES.rglob("kustomization.yaml"))
    assert found == sorted(KUSTOMIZATIONS + COMPONENTS), (
        "add new overlays to KUSTOMIZATIONS, new components to COMPONENTS (deploy_manifests.py)")


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_rendering_matches_kubectl_kustomize(directory):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the test's own rendering is used alone")
    result = subprocess.run([kubectl, "kustomize", str(KUBERNETES / directory)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize failed:\n{result.stderr}"
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    theirs = sorted((d for d in yaml.safe_load_all(result.stdout) if d), key=key)
    ours = sorted(render(directory), key=key)
    assert [key(o) for o in ours] == [key(o) for o in theirs]
    for mine, reference in zip(ours, theirs):
        assert mine == reference, f"{key(mine)} renders differently from kubectl kustomize"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_workloads_are_exactly_the_six_services(directory):
    objects = render(directory)
    workloads = sorted(o["metadata"]["name"] for o in objects if pod_spec(o) is not None)
    assert workloads == sorted(s["binary"] for s in catalog())
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == ["fabrique"]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "fabrique", key_of(obj)


@pytest.mark.parametrize("name", SERVICE_NAMES)
@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_service_manifest_matches_the_catalog(directory, name):
    s = service(name)
    objects = render(directory)
    workload = find(objects, "StatefulSet" if s["stateful"] else "Deployment", s["binary"])
    spec = pod_spec(workload)
    container = the_container(workload)
    labels = workload["spec"]["template"]["metadata"]["labels"]

    # Command line: the binary and the ports of the catalog.
    assert container["command"][0] == f"/usr/local/bin/{s['binary']}"
    flags = flags_of(container)
    assert flags.get("listen_host") == "0.0.0.0"
    assert flags.get("port") == str(s["port"]), f"--port is not the catalog's {s['port']}"
    assert flags.get("metrics_port") == str(s["metrics_port"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": s["port"], "metrics": s["metrics_port"]}

    # The Service: named ports that reach the container's, and a selector that picks this pod.
    svc = find(objects, "Service", s["binary"])
    assert svc["spec"]["selector"].items() <= labels.items()
    assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert set(svc_ports) == {"grpc", "metrics"}
    for port_name, number in ports.items():
        assert svc_ports[port_name]["port"] == number
        assert svc_ports[port_name].get("targetPort", number) in (port_name, number)

    # Health probes on the gRPC port, in the transport the server speaks (check_probes).
    check_probes(directory, objects, workload, s)

    # Prometheus annotations name the metrics port.
    annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(s["metrics_port"])
    assert annotations.get("prometheus.io/path") == "/metrics"

    # The kubelet's SIGKILL must come after the service's own drain deadline.
    assert "shutdown_grace" in flags, "pass --shutdown_grace explicitly, next to the grace period"
    grace = spec.get("terminationGracePeriodSeconds", 30)
    assert grace > parse_duration(flags["shutdown_grace"]), (
        f"terminationGracePeriodSeconds {grace} <= --shutdown_grace={flags['shutdown_grace']}")

    if s["stateful"]:
        assert workload["spec"]["replicas"] == 1
        data_dir = flags.get("data_dir")
        assert data_dir, "a stateful service needs --data_dir"
        claims = {c["metadata"]["name"] for c in workload["spec"]["volumeClaimTemplates"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts.get(data_dir) in claims, f"--data_dir={data_dir} is not on a claimed volume"
        assert not any(m.get("readOnly") for m in container["volumeMounts"]
                       if m["mountPath"] == data_dir)
        # The governing Service of a StatefulSet must be headless.
        assert workload["spec"]["serviceName"] == s["binary"]
        assert svc["spec"].get("clusterIP") == "None"
    else:
        assert "data_dir" not in flags
        assert "replicas" not in workload["spec"], "the autoscaler owns the replica count"
        # gRPC clients keep connections open: they must see every pod and balance per call.
        assert svc["spec"].get("clusterIP") == "None", f"{s['binary']}'s Service is not headless"
        hpa = find(objects, "HorizontalPodAutoscaler", s["binary"])
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1", "kind": "Deployment", "name": s["binary"]}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert any(m["type"] == "Resource" and m["resource"]["name"] == "cpu"
                   for m in hpa["spec"]["metrics"])


def test_the_code_wires_at_least_what_fabrique_up_wires():
    """calls_in_code() reads the flags; `fabrique up` (tools/cli/up_command.cc, PeersOf) passes a
    subset of them, and the manifests must pass them all."""
    source = (REPO / "tools" / "cli" / "up_command.cc").read_text()
    peers_of = re.search(r"PeersOf\(absl::string_view name\) \{(.*?)\n\}", source, re.S)
    assert peers_of, "PeersOf changed shape in tools/cli/up_command.cc"
    for name, peers in re.findall(r'if \(name == "(\w+)"\) return \{([^}]*)\}', peers_of[1]):
        assert set(re.findall(r'"(\w+)"', peers)) <= calls_in_code()[name], name
    assert calls_in_code()["features"] == {"tower"}  # the role bindings, and nothing else


@pytest.mark.parametrize("name", SERVICE_NAMES)
@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_each_service_is_given_the_services_it_calls(directory, name):
    """Without --<peer>_target a service dials its default, 127.0.0.1, which in a pod is itself:
    each target names the peer's Service and port, a name its certificate is issued for."""
    s = service(name)
    objects = render(directory)
    workload = find(objects, "StatefulSet" if s["stateful"] else "Deployment", s["binary"])
    flags = flags_of(the_container(workload))
    targets = {target_peer(f): f for f in flags if f.endswith("_target")}
    assert set(targets) == calls_in_code()[name], f"{name} is given targets {sorted(targets)}"
    for peer, flag in targets.items():
        host, _, port = flags[flag].rpartition(":")
        assert port == str(service(peer)["port"]), f"--{peer}_target port is not {peer}'s"
        assert host == service(peer)["binary"], f"--{peer}_target does not name {peer}'s Service"
        certificates = [o for o in objects if o["kind"] == "Certificate"
                        and host in o["spec"].get("dnsNames", [])]
        if directory not in INSECURE_KUSTOMIZATIONS:
            assert certificates, f"no certificate is issued for {host}"


# --- Identity: TLS, tokens, policy -------------------------------------------------------------

# The image's own probe, with grpc_health_probe's flags and exit codes (tools/health_probe).
HEALTH_PROBE = "/usr/local/bin/fabrique-health-probe"
IDENTITY_FLAGS = {"tls_cert", "tls_key", "tls_client_ca", "jwks", "token_issuer",
                  "token_audience", "policy"}
SPIFFE_PREFIX = "spiffe://fabrique/service/"


def probe_options(command):
    """The health probe's -name=value / -name options of an exec probe, as a dict."""
    assert command[0] == HEALTH_PROBE, f"probe runs {command[0]}, not {HEALTH_PROBE}"
    options = {}
    for argument in command[1:]:
        match = re.fullmatch(r"-([a-z-]+)(?:=(.*))?", argument)
        assert match, f"probe argument {argument!r} is not -option[=value]"
        assert match[1] not in options, f"-{match[1]} given twice"
        options[match[1]] = match[2]
    return options


def mounted_from(workload, path):
    """The volume that holds file `path` of the one container, and the file's name in it.
    Asserts the mount is a whole folder: the kubelet updates a Secret's or ConfigMap's files in
    place only then (a subPath mount never changes, so nothing would reload)."""
    container = the_container(workload)
    folder, _, name = path.rpartition("/")
    mounts = [m for m in container.get("volumeMounts", []) if m["mountPath"] == folder]
    assert len(mounts) == 1, f"{key_of(workload)}: nothing mounted at {folder} (for {path})"
    assert "subPath" not in mounts[0], f"{key_of(workload)}: {folder} is a subPath mount"
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    assert mounts[0]["name"] in volumes, f"{key_of(workload)}: no volume {mounts[0]['name']}"
    return volumes[mounts[0]["name"]], name


def certificate_for_secret(objects, secret_name):
    found = [o for o in objects if o["kind"] == "Certificate"
             and o["spec"]["secretName"] == secret_name]
    assert len(found) == 1, f"expected one Certificate writing Secret {secret_name}, " \
        f"found {len(found)}"
    return found[0]


def env_value(objects, container, variable):
    """The value the kubelet substitutes for $(variable): a literal, or a ConfigMap's key."""
    entries = [e for e in container.get("env", []) if e["name"] == variable]
    assert len(entries) == 1, f"$({variable}) is used but not set in env"
    if "value" in entries[0]:
        return entries[0]["value"]
    ref = entries[0]["valueFrom"]["configMapKeyRef"]
    config = find(objects, "ConfigMap", ref["name"])
    assert ref["key"] in config.get("data", {}), f"ConfigMap {ref['name']} has no {ref['key']}"
    return config["data"][ref["key"]]


def check_probes(directory, objects, workload, s):
    """Every probe runs grpc_health_probe against the gRPC port (the kubelet's own gRPC probe
    cannot speak TLS). Over TLS unless the overlay is insecure: the CA file is the one the server
    trusts for clients (the same Secret's ca.crt) and the server name is one of its certificate's
    DNS names, so the probe verifies the very certificate the server serves. Readiness asks for
    one of the service's own names, startup and liveness for the server as a whole."""
    container = the_container(workload)
    flags = flags_of(container)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert set(container[probe]) & {"grpc", "tcpSocket", "httpGet"} == set(), probe
        options = probe_options(container[probe]["exec"]["command"])
        where = f"{s['binary']} {probe}"
        assert options.pop("addr") == f"127.0.0.1:{s['port']}", f"{where}: -addr"
        assert container[probe].get("timeoutSeconds", 1) >= 2, f"{where}: a process needs time"
        service_name = options.pop("service", None)
        if probe == "readinessProbe":
            assert service_name in s["health"], f"{where}: -service={service_name}"
        else:
            assert service_name is None, f"{where} asks for {service_name}, not the server"
        if directory in INSECURE_KUSTOMIZATIONS:
            assert options == {}, f"{where}: TLS options against a plaintext server: {options}"
            continue
        assert options == {"tls": None, "tls-ca-cert": flags["tls_client_ca"],
                           "tls-server-name": options.get("tls-server-name")}, where
        volume, _ = mounted_from(workload, flags["tls_cert"])
        certificate = certificate_for_secret(objects, volume["secret"]["secretName"])
        assert options["tls-server-name"] in certificate["spec"]["dnsNames"], where


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_service_has_its_identity_or_says_it_is_insecure(directory):
    objects = render(directory)
    insecure = directory in INSECURE_KUSTOMIZATIONS
    assert insecure == ("insecure" in directory), "an insecure overlay says so in its name"
    for s in catalog():
        workload = find(objects, "StatefulSet" if s["stateful"] else "Deployment", s["binary"])
        flags = flags_of(the_container(workload))
        where = f"{directory}: {s['binary']}"
        if insecure:
            assert flags.get("insecure") == "true", f"{where}: no --insecure=true"
            assert not IDENTITY_FLAGS & set(flags), f"{where}: {IDENTITY_FLAGS & set(flags)}"
            continue
        assert "insecure" not in flags, f"{where} runs --insecure outside an insecure overlay"
        missing = IDENTITY_FLAGS - set(flags)
        assert not missing, f"{where} lacks --{', --'.join(sorted(missing))} (every pod exits 2)"

        # TLS: the three files come from one Secret, written by this service's Certificate.
        volumes = {}
        for flag, file in (("tls_cert", "tls.crt"), ("tls_key", "tls.key"),
                           ("tls_client_ca", "ca.crt")):
            volume, name = mounted_from(workload, flags[flag])
            assert name == file, f"{where}: --{flag} reads {name}, cert-manager writes {file}"
            volumes[volume["name"]] = volume
        assert len(volumes) == 1, f"{where}: the TLS files come from several volumes"
        (volume,) = volumes.values()
        assert "secret" in volume, f"{where}: the TLS files are not from a Secret"
        mode = volume["secret"].get("defaultMode", 0o644)
        if not mode & 0o004:  # not world-readable: the pod's group must own the files
            assert pod_spec(workload)["securityContext"].get("fsGroup"), \
                f"{where}: key mode {oct(mode)} without fsGroup, unreadable by the service"
        certificate = certificate_for_secret(objects, volume["secret"]["secretName"])
        assert certificate["spec"]["uris"] == [SPIFFE_PREFIX + s["name"]], where

        # Tokens and policy: mounted ConfigMap folders (reloaded on change), and the token
        # claims from the environment.
        # The JWKS from a ConfigMap, or from a Secret (overlays/prod), whole either way.
        for flag, sources in (("jwks", ("configMap", "secret")), ("policy", ("configMap",))):
            volume, _ = mounted_from(workload, flags[flag])
            source = next((s for s in sources if s in volume), None)
            assert source, f"{where}: --{flag} is not from a {' or '.join(sources)}"
            assert "items" not in volume[source], f"{where}: --{flag}: name the whole object"
        for flag in ("token_issuer", "token_audience"):
            match = re.fullmatch(r"\$\(([A-Z_]+)\)", flags[flag])
            value = (env_value(objects, the_container(workload), match[1]) if match
                     else flags[flag])
            assert value, f"{where}: --{flag} is empty"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_certificates_name_their_service_and_serve_its_dns_names(directory):
    objects = render(directory)
    certificates = [o for o in objects if o["kind"] == "Certificate"]
    if directory in INSECURE_KUSTOMIZATIONS:
        assert not certificates, "an insecure overlay needs no cert-manager"
        return
    services = [c for c in certificates if not c["spec"].get("isCA")]
    assert sorted(c["metadata"]["name"] for c in services) == sorted(
        s["binary"] for s in catalog()), "one service Certificate per service"
    for certificate in services:
        spec = certificate["spec"]
        name = certificate["metadata"]["name"]
        spiffe = [u for u in spec.get("uris", []) if u.startswith("spiffe://")]
        assert spiffe == [SPIFFE_PREFIX + name.removeprefix("fabrique-")], name
        namespace = certificate["metadata"]["namespace"]
        assert set(spec["dnsNames"]) >= {name, f"{name}.{namespace}", f"{name}.{namespace}.svc",
                                          f"{name}.{namespace}.svc.cluster.local"}, name
        assert {"server auth", "client auth", "digital signature"} <= set(spec["usages"]), name
        assert spec["issuerRef"]["name"] and spec["issuerRef"]["kind"] in (
            "Issuer", "ClusterIssuer"), name
        assert spec["privateKey"].get("rotationPolicy") == "Always", name


def documented_objects():
    """Names deploy/README.md's "What the cluster must provide" table lists, by kind."""
    text = (DEPLOY / "README.md").read_text()
    section = re.search(r"^### What the cluster must provide\n(.*?)(?=^#)", text, re.M | re.S)
    assert section, "deploy/README.md has no section '### What the cluster must provide'"
    rows = re.findall(r"^\| (\w+) +\| `([a-z0-9-]+)` +\|", section[1], re.M)
    assert rows, "the section's table lists nothing"
    return set(rows)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_referenced_secret_configmap_and_issuer_is_defined_or_documented(directory):
    objects = render(directory)
    defined = {(o["kind"], o["metadata"]["name"]) for o in objects}
    defined |= {("Secret", o["spec"]["secretName"]) for o in objects
                if o["kind"] == "Certificate"}
    referenced = set()
    for obj in objects:
        if obj["kind"] == "Certificate":
            ref = obj["spec"]["issuerRef"]
            referenced.add((ref["kind"], ref["name"], key_of(obj)))
        if obj["kind"] == "Issuer" and "ca" in obj["spec"]:
            referenced.add(("Secret", obj["spec"]["ca"]["secretName"], key_of(obj)))
        spec = pod_spec(obj)
        if spec is None:
            continue
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                referenced.add(("Secret", volume["secret"]["secretName"], key_of(obj)))
            if "configMap" in volume:
                referenced.add(("ConfigMap", volume["configMap"]["name"], key_of(obj)))
        for container in spec["containers"]:
            for env in container.get("env", []):
                for kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    if ref in env.get("valueFrom", {}):
                        referenced.add((kind, env["valueFrom"][ref]["name"], key_of(obj)))
            for source in container.get("envFrom", []):
                for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if ref in source:
                        referenced.add((kind, source[ref]["name"], key_of(obj)))
    documented = documented_objects()
    undefined = sorted(f"{kind} {name} (used by {user})" for kind, name, user in referenced
                       if (kind, name) not in defined and (kind, name) not in documented)
    assert not undefined, f"{directory}: neither defined nor in deploy/README.md: {undefined}"


def default_policy_text():
    source = (REPO / "libs" / "auth" / "default_policy.cc").read_text()
    return re.search(r'kText = R"\((.*?)\)";', source, re.S)[1]


def test_the_policy_config_map_is_the_default_policy_with_admins_as_a_group():
    policy = find(render("base"), "ConfigMap", "fabrique-policy")["data"]["policy.csv"]
    expected = default_policy_text().replace(
        "g, user:ADMIN_USER, *:platform-admin", "g, group:fabrique-platform-admins, *:platform-admin")
    assert "ADMIN_USER" not in expected, "the default policy's admin line changed shape"
    assert policy == expected, "fabrique-policy drifted from libs/auth/default_policy.cc"


def test_the_dev_overlay_accepts_tokens_of_a_laptops_local_authority():
    objects = render("overlays/dev")
    config = find(objects, "ConfigMap", "fabrique-oidc")["data"]
    # `fabrique up` makes DATA_DIR/auth with issuer fabrique-local and audience fabrique.
    assert (config["issuer"], config["audience"]) == ("fabrique-local", "fabrique")
    ca_issuer = find(objects, "Issuer", "fabrique-ca")
    assert find(objects, "Certificate", ca_issuer["spec"]["ca"]["secretName"])["spec"]["isCA"]


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_containers_run_the_image_and_are_sized(directory):
    """Pod Security: test_pod_security.py."""
    for workload in (o for o in render(directory) if pod_spec(o) is not None):
        name = key_of(workload)
        spec = pod_spec(workload)
        assert spec.get("automountServiceAccountToken") is False, name
        for container in spec["containers"]:
            assert container["image"].split(":")[0] == "fabrique", name
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{name}: {kind}"


# --- Flags against the binaries -----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def help_flags(binary):
    result = subprocess.run([str(BIN_DIR / binary), "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, f"{binary} --help exited {result.returncode}"
    return set(re.findall(r"^\s*--([a-z_]+)\b", result.stdout, re.MULTILINE))


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_flag_in_the_manifests_is_declared_in_the_source(directory):
    """What the binaries' --help checks below, without a build."""
    for s in catalog():
        workload = find(render(directory), "StatefulSet" if s["stateful"] else "Deployment",
                        s["binary"])
        known = declared_flags(s)
        assert IDENTITY_FLAGS | {"insecure", "port", "metrics_port"} <= known, (
            f"the source declares {sorted(known)}; has the flag declaration changed shape?")
        unknown = sorted(set(flags_of(the_container(workload))) - known)
        assert not unknown, f"{s['binary']} declares no flag {unknown}"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_flag_in_the_manifests_is_a_flag_of_its_binary(directory):
    if not (BIN_DIR / "fabrique-features").exists():
        pytest.skip(f"{BIN_DIR} has no binaries; build first (tools/setup)")
    for s in catalog():
        workload = find(render(directory), "StatefulSet" if s["stateful"] else "Deployment",
                        s["binary"])
        known = help_flags(s["binary"])
        assert {"port", "metrics_port"} <= known, f"{s['binary']} --help lists {sorted(known)}"
        unknown = sorted(set(flags_of(the_container(workload))) - known)
        assert not unknown, f"{s['binary']} has no flag {unknown} (see its --help)"
