"""`fabrique monitor policy` and `fabrique monitor alerts` against a real fabrique-monitor (run
alone, with --insecure, its peers unreachable): a policy set from JSON, shown, refused when
impossible (exit 1 with the monitor's words naming the field), deleted; alerts listed and an
unknown one acknowledged (exit 1); bad usage exit 2."""

import json
import socket
import subprocess
import time

import pytest

from conftest import BIN_DIR, fabrique

POLICY = {
    "window": "3600s",
    "evaluation_interval": "300s",
    "min_samples": 500,
    "drift": [
        {"metric": "DRIFT_METRIC_PSI", "warning_threshold": 0.1, "critical_threshold": 0.25,
         "features": ["amount"]},
        {"metric": "DRIFT_METRIC_AUTO", "warning_threshold": 0.05, "critical_threshold": 0.01,
         "include_predictions": True},
    ],
    "performance": [{"metric": "auc", "op": "COMPARISON_OP_GREATER_OR_EQUAL", "value": 0.75}],
    "min_labelled": 200,
    "no_traffic_after": "7200s",
    "retrain": {"enabled": True, "min_severity": "SEVERITY_WARNING", "consecutive_windows": 3,
                "cooldown": "86400s"},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def monitor(tmp_path_factory):
    """fabrique-monitor on a free loopback port; yields the CLI flags that reach it."""
    data = tmp_path_factory.mktemp("monitor")
    port = free_port()
    dead = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [str(BIN_DIR / "fabrique-monitor"), "--insecure", "--listen_host=127.0.0.1",
         f"--port={port}", "--metrics_port=0", f"--data_dir={data / 'data'}",
         f"--registry_target={dead}", f"--tower_target={dead}", f"--trainer_target={dead}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    flags = [f"--target=127.0.0.1:{port}", "--insecure", "--timeout=5s"]
    deadline = time.monotonic() + 30
    while fabrique("monitor", "policy", "list", *flags).returncode != 0:
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "fabrique-monitor did not answer in time"
        time.sleep(0.1)
    yield flags
    process.terminate()
    process.wait(timeout=30)


def test_policy_set_show_delete(monitor, tmp_path):
    path = tmp_path / "fraud.json"
    path.write_text(json.dumps(POLICY))
    result = fabrique("monitor", "policy", "set", "fraud", str(path), *monitor)
    assert result.returncode == 0, result.stderr
    stored = json.loads(result.stdout)
    assert stored["model"] == "fraud"
    assert stored["updated_by"]["subject"] == "anonymous"

    shown = fabrique("monitor", "policy", "show", "fraud", *monitor)
    assert shown.returncode == 0, shown.stderr
    policy = json.loads(shown.stdout)
    assert policy["retrain"]["consecutive_windows"] == 3
    assert policy["performance"][0]["metric"] == "auc"

    listed = fabrique("monitor", "policy", "list", *monitor)
    assert [p["model"] for p in json.loads(listed.stdout)["policies"]] == ["fraud"]

    # A model without its own policy gets the built-in one, and is told so.
    other = fabrique("monitor", "policy", "show", "churn", *monitor)
    assert other.returncode == 0
    assert "churn has no policy of its own; the built-in defaults apply" in other.stderr
    assert json.loads(other.stdout)["window"] == "3600s"

    deleted = fabrique("monitor", "policy", "delete", "fraud", *monitor)
    assert deleted.returncode == 0 and "deleted the policy of fraud" in deleted.stdout
    again = fabrique("monitor", "policy", "delete", "fraud", *monitor)
    assert again.returncode == 1
    assert "NOT_FOUND" in again.stderr


def test_an_impossible_policy_is_exit_1_with_the_field(monitor, tmp_path):
    bad = json.loads(json.dumps(POLICY))
    bad["drift"][1]["critical_threshold"] = 0.2  # Laxer than its warning p-value: impossible.
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = fabrique("monitor", "policy", "set", "fraud", str(path), *monitor)
    assert result.returncode == 1
    assert "INVALID_ARGUMENT: policy.drift[1].critical_threshold 0.2 must be below " \
        "warning_threshold 0.05" in result.stderr
    shown = fabrique("monitor", "policy", "show", "fraud", *monitor)
    assert "no policy of its own" in shown.stderr


def test_bad_usage_is_exit_2(monitor, tmp_path):
    assert fabrique("monitor", "policy", "set", "fraud", *monitor).returncode == 2
    missing = fabrique("monitor", "policy", "set", "fraud", str(tmp_path / "none.json"), *monitor)
    assert missing.returncode == 2
    other = tmp_path / "churn.json"
    other.write_text(json.dumps({"model": "churn"}))
    assert fabrique("monitor", "policy", "set", "fraud", str(other), *monitor).returncode == 2
    assert fabrique("monitor", "policy", "frobnicate", "x", *monitor).returncode == 2
    assert fabrique("monitor", "alerts", "--comment=hi", *monitor).returncode == 2
    assert fabrique("monitor", "alerts", "--state=burning", *monitor).returncode == 2


def test_alerts_list_and_acknowledge(monitor):
    listed = fabrique("monitor", "alerts", "fraud", "--state=firing", *monitor)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:3] == ["ID", "MODEL", "KIND"]
    as_json = fabrique("monitor", "alerts", "--json", *monitor)
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout or "{}").get("alerts", []) == []
    ack = fabrique("monitor", "alerts", "--ack=01NOSUCHALERT", "--comment=seen", "--silence=2h",
                   *monitor)
    assert ack.returncode == 1
    assert "AcknowledgeAlert 01NOSUCHALERT: NOT_FOUND" in ack.stderr
