"""The control tower's Prometheus rules (deploy/prometheus/tower_rules.yaml) pass promtool's
checks and their unit tests, have the alerts the tower needs, and read only the tower's metric
names (the budget's and approvals' as services/tower exports them, with their labels)."""

import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "tower_rules.yaml"

# Every metric the tower exports, with its labels (histograms add _bucket, _sum and _count).
TOWER_METRICS = {
    "fabrique_tower_jobs": {"squad", "state"},
    "fabrique_tower_admission_latency_seconds": {"le"},
    "fabrique_tower_job_cycle_seconds": {"le"},
    "fabrique_tower_scheduling_cycle_seconds": {"le"},
    "fabrique_tower_quota_nominal": {"squad", "flavor", "resource"},
    "fabrique_tower_quota_used": {"squad", "flavor", "resource"},
    "fabrique_tower_quota_borrowed": {"squad", "flavor", "resource"},
    "fabrique_tower_quota_lent": {"squad", "flavor", "resource"},
    "fabrique_tower_preemptions_total": {"squad", "kind"},
    "fabrique_tower_budget_spent": {"scope", "id", "currency"},
    "fabrique_tower_budget_remaining": {"scope", "id", "currency"},
    "fabrique_tower_budget_threshold_exceeded": {"scope", "id", "level"},
    "fabrique_tower_approvals_pending": {"kind"},
    "fabrique_tower_executor_errors_total": {"executor"},
}


@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (tools/setup does)")
    return path


@pytest.mark.parametrize("args", [
    ["check", "rules", "deploy/prometheus/tower_rules.yaml"],
    ["test", "rules", "deploy/prometheus/tower_rules_test.yaml"],
])
def test_promtool(promtool, args):
    result = subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


def rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_the_tower_needs_is_there():
    alerts = {r["alert"]: r for r in rules() if "alert" in r}
    for name, severity in (("FabriqueBudgetSoftThresholdExceeded", "warning"),
                           ("FabriqueBudgetHardThresholdExceeded", "critical"),
                           ("FabriqueApprovalsPendingTooLong", "warning"),
                           ("FabriqueTowerJobsQueuedTooLong", "warning"),
                           ("FabriqueTowerAdmissionLatencyHigh", "warning"),
                           ("FabriqueTowerPreemptionBurst", "warning"),
                           ("FabriqueTowerExecutorErrors", "critical")):
        assert name in alerts, f"alert {name} is missing"
        assert alerts[name]["labels"]["severity"] == severity
        assert alerts[name]["annotations"]["summary"]
        assert alerts[name]["annotations"]["description"]


def test_rules_read_only_the_tower_metrics_and_labels():
    for rule in rules():
        expr = rule["expr"]
        for metric in re.findall(r"\bfabrique_tower_[a-z_]+\b", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", metric)
            assert base in TOWER_METRICS, f"{expr!r} reads {metric}, which the tower does not export"
        for metric, selector in re.findall(r"\b(fabrique_tower_[a-z_]+)\{([^}]*)\}", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", metric)
            used = set(re.findall(r"([a-z_]+)\s*=~?", selector))
            assert used <= TOWER_METRICS[base], f"{expr!r} filters {metric} on {used}"


def test_the_budget_and_approvals_gauges_are_those_the_tower_registers():
    source = (REPO / "services" / "tower" / "tower_ledger_metrics.cc").read_text()
    registered = set(re.findall(r'"(fabrique_tower_[a-z_]+)"', source))
    assert registered == {"fabrique_tower_budget_spent", "fabrique_tower_budget_remaining",
                          "fabrique_tower_budget_threshold_exceeded",
                          "fabrique_tower_approvals_pending"}
    header = (REPO / "services" / "tower" / "tower_ledger_metrics.h").read_text()
    for name, labels in re.findall(r"//\s+(fabrique_tower_[a-z_]+)\{([a-z_,]+)\}", header):
        assert set(labels.split(",")) == TOWER_METRICS[name], name
