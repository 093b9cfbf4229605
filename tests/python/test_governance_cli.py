"""Governance from the command line against a real fabrique-registry (TLS, tokens): a squad brings
its own torch.jit.script'ed module with a signature file; the traffic policy is set and shown; the
design authority's standards refuse a promotion naming the standard, its scope and who set it,
and a model's policy tightens one; evaluations are appended and audited; and each refusal for
want of a permission is PERMISSION_DENIED naming it."""

import json
import pathlib
import subprocess
import time

import pytest

from conftest import fabrique
from test_cli import token

# TorchScript compiles from source: the module is a file, not `python -c`.
SCRIPT = """
import sys
from typing import List
import torch
class Scorer(torch.nn.Module):
    def forward(self, amount: torch.Tensor, country: List[str]) -> torch.Tensor:
        return torch.sigmoid(amount * 0.01)
torch.jit.save(torch.jit.script(Scorer()), sys.argv[1])
"""

SIGNATURE = {
    "inputs": [{"name": "amount", "datatype": "FP32", "shape": [-1, 1], "nan_allowed": True},
               {"name": "country", "datatype": "BYTES", "shape": [-1, 1]}],
    "outputs": [{"name": "probability", "datatype": "FP32", "shape": [-1, 1]}],
    "class_labels": ["legit", "fraud"],
}


@pytest.fixture(scope="module")
def gov(running):
    """Runs `fabrique ARGS --data_dir DIR` (as the local user, platform-admin, unless ARGS carry a
    --token) and holds the tokens of the people the tests play."""
    class Gov:
        data_dir = pathlib.Path(running.data_dir)
        scientist = ["--token", token(running.data_dir, "dana", "risk:data-scientist")]
        reviewer = ["--token", token(running.data_dir, "rita", "risk:design-authority")]
        owner = ["--token", token(running.data_dir, "pia", "risk:product-owner")]
        authority = ["--token", token(running.data_dir, "erin")]

        def run(self, *args, timeout=60):
            return fabrique(*args, "--data_dir", str(self.data_dir), timeout=timeout)
    return Gov()


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def scripted_module(path):
    """A module torch.jit.script'ed by Debian's Python, as a squad's notebook would save it."""
    script = path.with_suffix(".py")
    script.write_text(SCRIPT)
    subprocess.run(["/usr/bin/python3", str(script), str(path)], check=True, timeout=120)
    return path


def register(gov, tmp_path, model, auc, entity=""):
    signature = tmp_path / "signature.json"
    signature.write_text(json.dumps(SIGNATURE))
    module = tmp_path / "scorer.pt"
    if not module.exists():
        scripted_module(module)
    out = ok(gov.run("models", "register", model, "--torchscript", str(module), "--signature",
                     str(signature), "--squad", "risk", "--use_case", "uc-gov", "--entity", entity,
                     "--metric", f"auc={auc}", *gov.scientist))
    return out


def test_register_a_scripted_module_with_its_signature(gov, tmp_path):
    out = register(gov, tmp_path, "gov-byo", 0.9)
    assert "created model gov-byo (squad risk)" in out and "registered gov-byo:1" in out
    shown = ok(gov.run("models", "show", "gov-byo:1", *gov.scientist))
    assert "model.pt" in shown and "torchscript" in shown.lower() and "country" in shown
    # The bytes came through whole: downloaded, they load in torch.
    copy = tmp_path / "copy.pt"
    ok(gov.run("models", "download", "gov-byo:1/model.pt", "-o", str(copy), *gov.scientist))
    subprocess.run(["/usr/bin/python3", "-c", f"import torch; torch.jit.load('{copy}')"],
                   check=True, timeout=120)
    # A second registration adds a version to the existing model.
    assert "registered gov-byo:2" in register(gov, tmp_path, "gov-byo", 0.91)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SIGNATURE, "inputs": [{"name": "amount", "datatype": "float",
                                                        "shape": [-1, 1]}]}))
    result = gov.run("models", "register", "gov-byo", "--torchscript", str(tmp_path / "scorer.pt"),
                     "--signature", str(bad), *gov.scientist)
    assert result.returncode == 2 and "inputs[0].datatype: 'float'" in result.stderr
    bad.write_text("{\"inputs\": [")
    result = gov.run("models", "register", "gov-byo", "--torchscript", str(tmp_path / "scorer.pt"),
                     "--signature", str(bad), *gov.scientist)
    assert result.returncode == 2 and "bad.json" in result.stderr
    missing = gov.run("models", "register", "gov-absent", "--torchscript",
                      str(tmp_path / "scorer.pt"), "--signature",
                      str(tmp_path / "signature.json"), *gov.scientist)
    assert missing.returncode == 1 and "give --squad" in missing.stderr
    assert "--torchscript" in ok(gov.run("models", "register", "--help"))


def test_traffic_policy_set_and_shown(gov, tmp_path):
    register(gov, tmp_path, "gov-traffic", 0.9)
    ok(gov.run("models", "alias", "gov-traffic", "candidate", "1", *gov.scientist))
    out = ok(gov.run("models", "traffic", "gov-traffic", "--canary", "20", "--routing", "random",
                     "--shadow", *gov.scientist))
    assert "20% of traffic to candidate, routed random" in out and "shadow:        on" in out
    shown = ok(gov.run("models", "traffic", "gov-traffic"))
    assert "20% of traffic" in shown and "routed random" in shown
    out = ok(gov.run("models", "traffic", "gov-traffic", "--routing", "entity", "--noshadow",
                     *gov.scientist))
    assert "routed entity_hash" in out and "shadow:        off" in out
    refused = gov.run("models", "traffic", "gov-traffic", "--canary", "5", *gov.owner)
    assert refused.returncode == 1
    assert "PERMISSION_DENIED" in refused.stderr and "models.promote" in refused.stderr


def grant_every_squad(gov, user):
    """Binds `user` as design authority of every squad, then waits for the policy to reload."""
    policy = gov.data_dir / "auth" / "policy.csv"
    policy.write_text(policy.read_text() + f"\ng, user:{user}, *:design-authority\n")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        can = gov.run("auth", "can-i", "standards.write", *gov.authority)  # in every squad
        if can.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the policy never granted standards.write to {user}: {can.stdout}")


def test_standards_refuse_a_promotion_naming_standard_scope_and_setter(gov, tmp_path):
    register(gov, tmp_path, "gov-std", 0.82, entity="gov-customer")
    # A design authority of one squad cannot set rules binding every squad.
    refused = gov.run("standards", "set", "gov-floor", "--entity", "gov-customer", "--metric",
                      "auc>=0.85", *gov.reviewer)
    assert refused.returncode == 1
    assert "PERMISSION_DENIED" in refused.stderr and "standards.write" in refused.stderr
    grant_every_squad(gov, "erin")
    out = ok(gov.run("standards", "set", "gov-floor", "--entity", "gov-customer", "--metric",
                     "auc>=0.85", "--require_evaluation", "capacity", *gov.authority))
    assert "entity gov-customer" in out and "auc >= 0.85" in out and "erin" in out
    assert "gov-floor" in ok(gov.run("standards", "list", "--entity", "gov-customer",
                                     *gov.scientist))
    assert "auc >= 0.85" in ok(gov.run("standards", "get", "gov-floor", *gov.scientist))

    promoted = gov.run("models", "promote", "gov-std", "1", "--alias", "production",
                       *gov.scientist)
    assert promoted.returncode == 1 and "FAILED_PRECONDITION" in promoted.stderr
    assert "standard 'gov-floor' (entity 'gov-customer', set by erin)" in promoted.stderr
    assert "auc 0.82 not >= 0.85" in promoted.stderr
    assert "no 'capacity' evaluation" in promoted.stderr

    # The standard loosened; the model's own policy asks more, and so decides.
    ok(gov.run("standards", "set", "gov-floor", "--entity", "gov-customer", "--metric",
               "auc>=0.8", *gov.authority))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"metricGates": [
        {"metric": "auc", "op": "COMPARISON_OP_GREATER_OR_EQUAL", "value": 0.9}]}))
    out = ok(gov.run("models", "policy", "gov-std", "production", "--set", str(policy),
                     *gov.reviewer))
    assert "standard note: gate 'auc >= 0.9' tightens standard 'gov-floor'" in out
    tightened = gov.run("models", "promote", "gov-std", "1", "--alias", "production",
                        *gov.scientist)
    assert tightened.returncode == 1 and "1 gate(s) failed: auc >= 0.9" in tightened.stderr
    policy.write_text(json.dumps({"metricGates": [
        {"metric": "auc", "op": "COMPARISON_OP_GREATER_OR_EQUAL", "value": 0.5}]}))
    out = ok(gov.run("models", "policy", "gov-std", "production", "--set", str(policy),
                     *gov.reviewer))
    assert "is weaker than standard 'gov-floor'" in out and "has no effect" in out
    assert "completed" in ok(gov.run("models", "promote", "gov-std", "1", "--alias", "production",
                                     *gov.scientist))

    assert gov.run("standards", "delete", "gov-floor", *gov.reviewer).returncode == 1
    ok(gov.run("standards", "delete", "gov-floor", "--reason", "done", *gov.authority))
    assert "NOT_FOUND" in gov.run("standards", "get", "gov-floor", *gov.scientist).stderr
    bad = gov.run("standards", "set", "gov-bad", "--baseline", "auc>=0.05", *gov.authority)
    assert bad.returncode == 2 and "baseline" in bad.stderr
    trail = ok(gov.run("models", "audit", *gov.reviewer))
    assert "standard.set" in trail and "standard.delete" in trail


def test_evaluations_appended_and_audited(gov, tmp_path):
    register(gov, tmp_path, "gov-eval", 0.9)
    out = ok(gov.run("models", "evaluate", "gov-eval", "1", "--kind", "capacity", "--metric",
                     "serving_p99_ms=4.2", "--param", "batch=32", "--note", "H100",
                     *gov.scientist))
    assert "evaluated gov-eval:1 (capacity)" in out
    assert "serving_p99_ms=4.2" in out and "dana" in out and "batch=32" in out
    shown = ok(gov.run("models", "show", "gov-eval:1", *gov.scientist))
    assert "evaluations:" in shown and "capacity" in shown
    # Gated on the evaluated latency: the latest value decides.
    policy = tmp_path / "latency.json"
    policy.write_text(json.dumps({"metricGates": [
        {"metric": "serving_p99_ms", "op": "COMPARISON_OP_LESS_OR_EQUAL", "value": 5}]}))
    ok(gov.run("models", "policy", "gov-eval", "production", "--set", str(policy), *gov.reviewer))
    ok(gov.run("models", "evaluate", "gov-eval", "1", "--kind", "capacity", "--metric",
               "serving_p99_ms=6.5", *gov.scientist))
    slow = gov.run("models", "promote", "gov-eval", "1", "--alias", "production", "--dry_run",
                   *gov.scientist)
    assert slow.returncode == 1 and "serving_p99_ms 6.5 not <= 5" in slow.stderr

    refused = gov.run("models", "evaluate", "gov-eval", "1", "--kind", "capacity", *gov.owner)
    assert refused.returncode == 1
    assert "PERMISSION_DENIED" in refused.stderr and "models.evaluate" in refused.stderr
    assert gov.run("models", "evaluate", "gov-eval", "1").returncode == 2  # --kind is required
    trail = ok(gov.run("models", "audit", "--model", "gov-eval", *gov.reviewer))
    assert trail.count("version.evaluate") == 2
