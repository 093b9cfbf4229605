"""`fabrique models validate-capacity` against a live `fabrique up`, as a squad validates a new
version before asking for its promotion: the inference server loads it beside production, offers
it a paced load, saturates it, and records serving_p50_ms, serving_p99_ms and serving_max_qps in
the registry; a dry run records nothing; usage errors exit 2 before anything is called."""

import json
import pathlib
import subprocess
import time

import pytest

from conftest import fabrique

MODEL = "cap_scorer"
# One FP32 input, one FP32 output: forward(x) = 2x.
SCRIPT = """
import sys, torch
class M(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0
torch.jit.script(M()).save(sys.argv[1])
"""
SIGNATURE = {
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 1]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}],
}


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_help_and_usage_errors_exit_2_before_calling_anything():
    helped = ok(fabrique("models", "validate-capacity", "--help"))
    assert helped.startswith("Usage: fabrique models validate-capacity MODEL VERSION")
    for text in ("--qps", "--batch", "--duration", "--dry_run", "--json", "serving_p99_ms"):
        assert text in helped, text
    assert "validate-capacity" in ok(fabrique("models", "help"))
    # No server is running: each refusal comes from the CLI itself.
    target = ["--target", "127.0.0.1:1"]
    for args, reason in [((), "MODEL VERSION"),
                         (("m",), "MODEL VERSION"),
                         (("m", "x", "--qps", "5"), "x"),
                         (("m", "2"), "--qps"),
                         (("m", "2", "--qps", "0"), "--qps"),
                         (("m", "2", "--qps", "5", "--batch", "0"), "--batch"),
                         (("m", "2", "--qps", "5", "--duration", "500ms"), "--duration"),
                         (("m", "2", "--qps", "5", "--duration", "11m"), "--duration"),
                         (("m", "2", "--qps", "5", "--speed", "9"), "speed")]:
        bad = fabrique("models", "validate-capacity", *args, *target)
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert reason in bad.stderr, (args, bad.stderr)


@pytest.fixture(scope="module")
def served(running, tmp_path_factory):
    """MODEL registered twice by the CLI, version 1 in production and served."""
    tmp = tmp_path_factory.mktemp("capacity")
    module = tmp / "m.pt"
    script = tmp / "make.py"
    script.write_text(SCRIPT)
    subprocess.run(["/usr/bin/python3", str(script), str(module)], check=True, timeout=120)
    signature = tmp / "signature.json"
    signature.write_text(json.dumps(SIGNATURE))
    target = ["--data_dir", str(running.data_dir)]
    for _ in range(2):
        ok(fabrique("models", "register", MODEL, "--torchscript", str(module), "--signature",
                    str(signature), "--squad", "risk", "--use_case", "uc-cap", *target))
    ok(fabrique("models", "alias", MODEL, "production", "1", *target))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        shown = fabrique("serving", *target)
        if shown.returncode == 0 and MODEL in shown.stdout and " ready " in shown.stdout:
            break
        time.sleep(0.5)
    assert MODEL in shown.stdout and " ready " in shown.stdout, shown.stdout + shown.stderr
    return target


def test_validate_records_the_figures_on_the_version(served):
    result = fabrique("models", "validate-capacity", MODEL, "2", "--qps", "20", "--batch", "2",
                      "--duration", "1s", *served, timeout=180)
    out = ok(result)
    assert "loading..." in result.stderr and "load " in result.stderr, result.stderr
    assert "saturation" in result.stderr and "recording..." in result.stderr, result.stderr
    for label in ("offered qps", "achieved qps", "p50 ms", "p99 ms", "max qps", "failed"):
        assert label in out, out
    assert f"recorded as a capacity evaluation of {MODEL}:2" in out, out
    assert "serving_p99_ms=" in out and "requested_by=" in out, out

    shown = ok(fabrique("models", "show", f"{MODEL}:2", *served))
    assert "capacity" in shown and "serving_p50_ms=" in shown and "serving_max_qps=" in shown, \
        shown
    # Version 1, in production, was not touched.
    assert "serving_p99_ms" not in ok(fabrique("models", "show", f"{MODEL}:1", *served))


def test_dry_run_prints_json_and_records_nothing(served):
    before = ok(fabrique("models", "show", f"{MODEL}:1", *served))
    out = ok(fabrique("models", "validate-capacity", MODEL, "1", "--qps", "10", "--duration",
                      "1s", "--dry_run", "--json", *served, timeout=180))
    report = json.loads(out)
    assert report["model"] == MODEL and report["version"] == "1"
    assert report["p50_ms"] > 0 and report["p99_ms"] >= report["p50_ms"]
    assert report["max_qps"] > 0 and "recorded" not in report
    assert ok(fabrique("models", "show", f"{MODEL}:1", *served)) == before


def test_an_unknown_version_fails_with_not_found(served):
    result = fabrique("models", "validate-capacity", MODEL, "9", "--qps", "5", "--duration",
                      "1s", *served, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT_FOUND" in result.stderr, result.stderr
