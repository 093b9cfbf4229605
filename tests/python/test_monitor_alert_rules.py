"""The monitor's Prometheus rules (deploy/prometheus/monitor_rules.yaml) have the alerts the
monitor needs, and every fabrique_monitor_* metric they read is one the monitor exports
(services/monitor), with the labels it exports. promtool checks and tests them in
test_inference_alert_rules.py."""

import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "monitor_rules.yaml"


def rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def exported_metrics():
    """The monitor's metric names as the code spells them, and the labels its header lists."""
    names = set()
    for source in (REPO / "services" / "monitor").glob("*.cc"):
        names.update(re.findall(r'"(fabrique_monitor_[a-z_]+)"', source.read_text()))
    header = (REPO / "services" / "monitor" / "monitor_metrics.h").read_text()
    labels = {name: set(found.split(",")) for name, found in
              re.findall(r"//\s+(fabrique_monitor_[a-z_]+)\{([a-z_,]+)\}", header)}
    return names, labels


def test_every_alert_the_monitor_needs_is_there():
    alerts = {r["alert"] for r in rules() if "alert" in r}
    for name in ("FabriqueModelDrift", "FabriqueModelPerformanceBelowTraining",
                 "FabriqueMonitorAlertsFiring", "FabriqueMonitorIntakeRejecting",
                 "FabriqueNoPredictions"):
        assert name in alerts, f"alert {name} is missing"
    for rule in rules():
        if "alert" in rule:
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_rules_read_only_metrics_and_labels_the_monitor_exports():
    names, labels = exported_metrics()
    recorded = {r["record"] for r in rules() if "record" in r}
    for rule in rules():
        expr = rule["expr"]
        for metric in re.findall(r"\bfabrique_monitor_[a-z_]+\b", expr):
            assert metric in names, f"{expr!r} reads {metric}, which the monitor does not export"
        for metric, selector in re.findall(r"\b(fabrique_monitor_[a-z_]+)\{([^}]*)\}", expr):
            used = set(re.findall(r"([a-z_]+)\s*=~?", selector))
            known = labels.get(metric, {"outcome"})
            assert used <= known, f"{expr!r} filters {metric} on {used - known}"
        for record in re.findall(r"\bfabrique_monitor:[a-z_:0-9]+\b", expr):
            assert record in recorded, f"{expr!r} reads {record}, which no rule records"
