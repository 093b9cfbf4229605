"""The inference server's and the monitor's Prometheus rules (deploy/prometheus/
inference_rules.yaml, monitor_rules.yaml) pass promtool's checks and their unit tests, and the
local Prometheus config loads them."""

import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (tools/setup does)")
    return path


@pytest.mark.parametrize("args", [
    ["check", "rules", "deploy/prometheus/inference_rules.yaml"],
    ["test", "rules", "deploy/prometheus/inference_rules_test.yaml"],
    ["check", "rules", "deploy/prometheus/monitor_rules.yaml"],
    ["test", "rules", "deploy/prometheus/monitor_rules_test.yaml"],
    ["check", "config", "deploy/prometheus/prometheus.yaml"],
])
def test_promtool(promtool, args):
    result = subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
    if args[0] == "check" and args[1] == "config":
        assert "4 rule files found" in result.stdout
