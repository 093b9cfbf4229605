"""`fabrique predict` and `fabrique serving` against a live `fabrique up`, as a squad checks a
model it has just put in production: features defined and ingested, a tabular TorchScript module
(the trainer's calling convention) registered with a signature that names those features, then
entities scored by key through the inference server, which reads their features itself."""

import hashlib
import json
import math
import subprocess
import time
import urllib.request

import pytest

from conftest import fabrique
from test_cli import secure_channel

MODEL = "pc_churn"
DEFINITIONS = {
    "entities": [{"name": "pc_customer", "joinKey": "customer_id", "ownerSquad": "risk"}],
    "feature_groups": [{
        "name": "pc_profile", "entity": "pc_customer", "ownerSquad": "risk", "ttl": "86400s",
        "features": [{"name": "tenure", "type": "FEATURE_TYPE_DOUBLE"},
                     {"name": "plan", "type": "FEATURE_TYPE_STRING"}],
    }],
}
# forward(numeric, categorical) as the trainer's modules take it: P(churn) = sigmoid(tenure),
# a missing tenure (NaN) imputed as 0.
MODULE_SCRIPT = """
import sys, torch
from typing import List
class M(torch.nn.Module):
    def forward(self, numeric: torch.Tensor, categorical: List[List[str]]) -> torch.Tensor:
        return torch.sigmoid(torch.nan_to_num(numeric, 0.0))
torch.jit.script(M()).save(sys.argv[1])
"""


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_help_and_bad_usage_exit_2_before_calling_anything():
    helped = ok(fabrique("predict", "--help"))
    assert helped.startswith("Usage: fabrique predict") and "--entity" in helped
    assert ok(fabrique("serving", "--help")).startswith("Usage: fabrique serving")
    assert "  predict " in ok(fabrique("help")) and "  serving " in ok(fabrique("help"))
    for args, reason in [((), "MODEL"), (("m",), "--entity"),
                         (("m", "--entity", "a", "--version", "2", "--alias", "x"), "not both"),
                         (("m", "--entity", "a", "--feature", "novalue"), "novalue")]:
        bad = fabrique("predict", *args)
        assert bad.returncode == 2 and reason in bad.stderr, (args, bad.stderr)
    assert fabrique("serving", "extra").returncode == 2


def register_module(running, tmp_path):
    """Uploads the module and registers it as version 1 of MODEL in production."""
    from fabrique.v1 import common_pb2 as c, registry_pb2 as r, registry_pb2_grpc
    path = tmp_path / "module.pt"
    # TorchScript compiles from source files: the script is written to one, not passed with -c.
    script = tmp_path / "make_module.py"
    script.write_text(MODULE_SCRIPT)
    subprocess.run(["/usr/bin/python3", str(script), str(path)], check=True)
    data = path.read_bytes()
    channel = secure_channel(running, "registry")
    registry = registry_pb2_grpc.ModelRegistryStub(channel)
    registry.CreateModel(r.CreateModelRequest(model=r.Model(name=MODEL, owner_squad="risk")),
                         timeout=10)
    header = r.UploadArtifactRequest(header=r.ArtifactUploadHeader(
        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        media_type="application/octet-stream"))
    artifact = registry.UploadArtifact(iter([header, r.UploadArtifactRequest(chunk=data)]),
                                       timeout=30)
    signature = c.ModelSignature(class_labels=["stay", "churn"])
    for name, datatype, kind in (("tenure", "FP32", c.FEATURE_TYPE_DOUBLE),
                                 ("plan", "BYTES", c.FEATURE_TYPE_STRING)):
        signature.inputs.add(name=name, datatype=datatype, shape=[-1, 1], nan_allowed=True,
                             feature=c.VersionedFeatureRef(
                                 ref=c.FeatureRef(group="pc_profile", feature=name),
                                 schema_version=1, type=kind))
    signature.outputs.add(name="probability", datatype="FP32", shape=[-1, 1])
    version = r.ModelVersion(model=MODEL, signature=signature)
    version.artifacts.add(name="model.pt", kind=r.ARTIFACT_KIND_TORCHSCRIPT_MODULE,
                          artifact=artifact)
    registered = registry.RegisterVersion(r.RegisterVersionRequest(version=version), timeout=10)
    registry.SetAlias(r.SetAliasRequest(model=MODEL, alias="production",
                                        version=registered.version), timeout=10)
    channel.close()
    return registered.version


def monitor_accepted(running):
    """fabrique_monitor_predictions_total{outcome="accepted"}, scraped from the monitor's /metrics."""
    port = running.endpoints["monitor"]["metrics_port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('fabrique_monitor_predictions_total{outcome="accepted"}'):
                return float(line.split()[-1])
    raise AssertionError("the monitor's /metrics has no fabrique_monitor_predictions_total")


def test_predict_by_entity_and_the_serving_view(running, stubs, tmp_path):
    target = ["--data_dir", str(running.data_dir)]
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps(DEFINITIONS))
    ok(fabrique("features", "apply", *target, str(defs)))
    now = int(time.time() * 1e6)
    csv = tmp_path / "profile.csv"
    csv.write_text(f"customer_id,event_time,tenure,plan\nc1,{now},2.0,gold\nc2,{now},-1.0,free\n")
    ok(fabrique("features", "ingest", "--group", "pc_profile", *target, str(csv)))
    version = register_module(running, tmp_path)

    # The inference server follows the registry: wait until it says the version is ready.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        served = fabrique("serving", *target)
        if served.returncode == 0 and " ready " in served.stdout and MODEL in served.stdout:
            break
        time.sleep(0.5)
    assert f"model {MODEL}" in served.stdout, served.stdout + served.stderr
    assert "production -> 1" in served.stdout and " ready " in served.stdout

    logged_before = monitor_accepted(running)
    table = ok(fabrique("predict", MODEL, "--entity", "c1,c2,c9", "--entity_name",
                        "pc_customer", *target))
    rows = table.splitlines()
    assert rows[0].split()[:6] == ["ROW", "ENTITY", "VERSION", "ALIAS", "CANARY", "LABEL"]
    assert rows[1].split()[:6] == ["0", "c1", str(version), "production", "no", "churn"]
    assert rows[2].split()[5] == "stay"
    assert "pc_profile:tenure MISSING" in rows[3] and "pc_profile:plan MISSING" in rows[3]

    answer = json.loads(ok(fabrique("predict", MODEL, "--entity", "c1,c2,c9", "--entity_name",
                                    "pc_customer", "--json", *target)))
    predictions = answer["predictions"]
    assert [p["served_by"]["version"] for p in predictions] == [str(version)] * 3
    for prediction, tenure in zip(predictions, (2.0, -1.0, 0.0)):
        probability = prediction["outputs"][0]["values"][0]
        assert math.isclose(probability, 1 / (1 + math.exp(-tenure)), rel_tol=1e-5)
    assert len({p["prediction_id"] for p in predictions}) == 3

    # A supplied value overrides the store's.
    overridden = json.loads(ok(fabrique("predict", MODEL, "--entity", "c1", "--feature",
                                        "pc_profile:tenure=0", "--json", *target)))
    assert math.isclose(overridden["predictions"][0]["outputs"][0]["values"][0], 0.5)

    unknown = fabrique("predict", "pc_nothing", "--entity", "c1", *target)
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr

    # `fabrique up` points the inference server at the monitor: the 7 rows scored above are
    # logged, and accepted (the registry knows their version).
    deadline = time.monotonic() + 60
    while monitor_accepted(running) < logged_before + 7 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert monitor_accepted(running) >= logged_before + 7
