"""Every object of every kustomization, as `kubectl kustomize` builds it, is valid against the
Kubernetes OpenAPI schemas, and the cert-manager and prometheus-operator objects against their
CRDs' schemas: tests/k8s/validate_manifests.js, with npm's kubernetes-models,
@kubernetes-models/cert-manager and @kubernetes-models/prometheus-operator (tools/setup installs
them with `npm ci` in tests/k8s). No cluster and no network are needed. An object of a kind the
validator has no schema for fails the check, and so does a field no schema declares (as under the
API server's strict field validation).

Where no kubectl is installed (Debian's kubernetes-client is too old for components), the
objects come from the tests' own renderer, which test_deploy.py compares with kubectl's wherever
both exist.
"""

import json
import shutil
import subprocess

import pytest
import yaml

from deploy_manifests import KUBERNETES, KUSTOMIZATIONS, REPO, render

VALIDATOR = REPO / "tests" / "k8s" / "validate_manifests.js"


@pytest.fixture(scope="module")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.fail("node not found: install Debian's nodejs (tools/setup does)")
    if not (REPO / "tests" / "k8s" / "node_modules" / "@kubernetes-models").is_dir():
        pytest.fail("the schema packages are missing: run tools/setup (npm ci in tests/k8s)")
    return path


def kubectl_kustomize(directory):
    """The objects kubectl builds, or None where no kubectl is installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    result = subprocess.run([kubectl, "kustomize", str(KUBERNETES / directory)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def validate(node, tmp_path, objects):
    path = tmp_path / "objects.json"
    path.write_text(json.dumps(objects))
    return subprocess.run([node, str(VALIDATOR), str(path)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_object_is_valid_against_its_schema(node, tmp_path, directory):
    objects = kubectl_kustomize(directory)
    if objects is None:
        objects = render(directory)
    result = validate(node, tmp_path, objects)
    assert result.returncode == 0, f"{directory}:\n{result.stdout}{result.stderr}"
    assert f"{len(objects)} of {len(objects)} objects valid" in result.stdout


def test_the_prod_overlay_holds_the_custom_resources_it_is_checked_for():
    kinds = {(o["apiVersion"], o["kind"]) for o in render("overlays/prod")}
    assert {("cert-manager.io/v1", "Certificate"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
            ("monitoring.coreos.com/v1", "PrometheusRule")} <= kinds
    dev = {(o["apiVersion"], o["kind"]) for o in render("overlays/dev")}
    assert ("cert-manager.io/v1", "Issuer") in dev


def test_the_validator_refuses_bad_objects(node):
    result = subprocess.run([node, str(VALIDATOR), "--self-test"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("what,change", [
    ("an unknown kind", lambda o: o.update(kind="StatefulSetz")),
    ("a CRD group it has no schema for", lambda o: o.update(apiVersion="example.com/v1")),
    ("replicas as a string", lambda o: o["spec"].update(replicas="one")),
    ("a port that is a word", lambda o: o["spec"]["template"]["spec"]["containers"][0]["ports"][0]
     .update(containerPort="grpc")),
    ("a misspelt field", lambda o: o["spec"]["template"]["spec"]["containers"][0].update(
        securityContex={"readOnlyRootFilesystem": True})),
    ("a misspelt field of a claim", lambda o: o["spec"]["volumeClaimTemplates"][0]["spec"].update(
        storageclass="fabrique-data")),
])
def test_a_spoiled_manifest_fails_the_check(node, tmp_path, what, change):
    objects = render("overlays/prod")
    workload = next(o for o in objects if o["kind"] == "StatefulSet")
    change(workload)
    result = validate(node, tmp_path, objects)
    assert result.returncode == 1, f"{what} was accepted:\n{result.stdout}"
    assert workload["metadata"]["name"] in result.stderr


def test_a_squads_namespace_is_valid_but_for_kueue(node, tmp_path):
    """squads/squad-namespace.yaml, applied once per squad: its Kueue LocalQueue has no schema
    package here, so it is left out by name; everything else is checked."""
    documents = [d for d in yaml.safe_load_all(
        (KUBERNETES / "squads" / "squad-namespace.yaml").read_text()) if d]
    checked = [d for d in documents if d["apiVersion"].split("/")[0] != "kueue.x-k8s.io"]
    assert [d["kind"] for d in documents if d not in checked] == ["LocalQueue"]
    result = validate(node, tmp_path, checked)
    assert result.returncode == 0, result.stdout + result.stderr
