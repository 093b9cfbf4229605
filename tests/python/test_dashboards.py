"""The Grafana dashboards of deploy/grafana: well-formed dashboards on a `${datasource}`
variable, every panel's query accepted by promtool, and every metric a query names served by a
running `fabrique up` (recorded series through the deploy/prometheus rules that define them)."""

import json
import pathlib
import re
import subprocess
import time
import urllib.request

import pytest
import yaml

from conftest import REPO, fabrique

DASHBOARDS = sorted((REPO / "deploy" / "grafana").glob("*.json"))
RULE_FILES = sorted(p for p in (REPO / "deploy" / "prometheus").glob("*rules.yaml"))

# Series a running factory shows only once it holds data this test does not make (a model
# version the monitor has reported on, a canary, a squad's jobs, quotas and budgets). For these,
# the name must be one a service declares (services/**), and the end-to-end tests of those
# features read them from the binaries' /metrics.
NEEDS_DATA = {
    "fabrique_inference_policy_routes_total": "a canary or shadow traffic policy",
    "fabrique_inference_shadow_failures_total": "a shadow version that fails",
    "fabrique_inference_load_failures_total": "a version that fails to load",
    "fabrique_monitor_drift_statistic": "a monitor report",
    "fabrique_monitor_drift_p_value": "a monitor report",
    "fabrique_monitor_drift_detected": "a monitor report",
    "fabrique_monitor_dataset_drift_share": "a monitor report",
    "fabrique_monitor_dataset_drift_detected": "a monitor report",
    "fabrique_monitor_window_predictions": "a monitor report",
    "fabrique_monitor_performance": "a monitor report with labels",
    "fabrique_monitor_training_performance": "a monitor report with labels",
    "fabrique_monitor_label_coverage": "a monitor report",
    "fabrique_monitor_labelled_predictions": "a monitor report",
    "fabrique_monitor_sufficient_labels": "a monitor report",
    "fabrique_monitor_alerts_firing": "a monitor alert",
    "fabrique_tower_jobs": "a squad's job",
    "fabrique_tower_quota_nominal": "a squad's quota",
    "fabrique_tower_quota_used": "a squad's quota",
    "fabrique_tower_quota_borrowed": "a squad's quota",
    "fabrique_tower_quota_lent": "a squad's quota",
    "fabrique_tower_preemptions_total": "a preempted job",
    "fabrique_tower_executor_errors_total": "a failed executor call",
    "fabrique_tower_budget_spent": "a priced usage line",
    "fabrique_tower_budget_remaining": "a budget",
    "fabrique_tower_budget_threshold_exceeded": "a budget",
}

# PromQL words that look like metric names but are not (aggregations may stand apart from
# their parenthesis: `sum by (job) (...)`).
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "sum", "min", "max", "avg", "group", "stddev",
            "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}


def panels(dashboard):
    """Every panel of `dashboard`, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(path):
    """(dashboard title, panel or variable title, PromQL) for every query of the dashboard."""
    dashboard = json.loads(path.read_text())
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield dashboard["title"], panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(<series selector>, <label>): the selector is the query.
            found = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["definition"])
            assert found, f"{dashboard['title']}: variable {variable['name']} is not label_values"
            yield dashboard["title"], f"variable {variable['name']}", found.group(1)


ALL_QUERIES = [q for path in DASHBOARDS for q in queries(path)]


def concrete(expr):
    """`expr` as Prometheus would receive it from Grafana: intervals and variables filled in."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    expr = expr.replace("$__range", "1h")
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def metric_names(expr):
    """The metric names `expr` selects: identifiers outside strings, label matchers, ranges and
    label lists that are not functions or keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', concrete(expr))
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" \1 ", expr)
    names = set()
    for found in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        name, call = found.group(1), found.group(2)
        if not call and name not in KEYWORDS:
            names.add(name)
    return names


def recording_rules():
    """Recorded series name -> the expressions that define it, over deploy/prometheus."""
    rules = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    rules.setdefault(rule["record"], []).append(rule["expr"])
    return rules


def raw_inputs(name, rules, seen=()):
    """The exported series behind `name`: itself, or the inputs of the rules recording it."""
    if name not in rules:
        return {name}
    inputs = set()
    for expr in rules[name]:
        for input_name in metric_names(expr) - set(seen) - {name}:
            inputs |= raw_inputs(input_name, rules, (*seen, name))
    return inputs


def test_the_five_dashboards_are_there():
    assert {p.stem for p in DASHBOARDS} == {
        "fabrique-overview", "fabrique-features", "fabrique-serving", "fabrique-models",
        "fabrique-tower"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_each_dashboard_is_grafana_json_on_a_datasource_variable(path):
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == path.stem
    assert dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        where = f"{dashboard['title']} / {panel['title']}"
        assert panel.get("description"), f"{where}: no description"
        assert panel["datasource"]["uid"] == "${datasource}", where
        assert panel["targets"], f"{where}: no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", where
            used = set(re.findall(r"\$\{?(\w+)\}?", target["expr"])) - {"__rate_interval"}
            assert used <= set(variables), f"{where}: unknown variables {used - set(variables)}"
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, where


def test_every_query_parses_with_promtool(tmp_path):
    def check(exprs):
        rules = {"groups": [{"name": "dashboards", "rules": [
            {"record": f"dashboard:query:{i}", "expr": e} for i, e in enumerate(exprs)]}]}
        path = tmp_path / "dashboard_rules.yaml"
        path.write_text(yaml.safe_dump(rules))
        return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True,
                              text=True, timeout=60)

    assert ALL_QUERIES
    if check([concrete(e) for _, _, e in ALL_QUERIES]).returncode == 0:
        return
    # Name the queries that fail, one by one.
    failures = []
    for dashboard, panel, expr in ALL_QUERIES:
        result = check([concrete(expr)])
        if result.returncode != 0:
            failures.append(f"{dashboard} / {panel}: {expr}\n{result.stdout}{result.stderr}")
    assert not failures, "\n".join(failures)


def test_metric_names_are_read_from_queries():
    assert metric_names('sum by (le, model) (rate(a_bucket{x="y{z}", m=~"$m"}[$__rate_interval]))'
                        ' / on (model) group_left (v) b:c:rate5m offset 5m') == {
        "a_bucket", "b:c:rate5m"}
    assert metric_names("time() - process_start_time_seconds{job=~\"$job\"} > bool 0") == {
        "process_start_time_seconds"}


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {re.match(r"[a-zA-Z_:][\w:]*", line).group(0)
            for line in text.splitlines() if line and not line.startswith("#")}


def declared_in_services():
    names = set()
    for source in (REPO / "services").rglob("*.cc"):
        names.update(re.findall(r'"(fabrique_[a-z_]+)"', source.read_text()))
    return names


def make_traffic(running, tmp_path):
    """Calls that make the labelled families appear: features applied, ingested (a row refused)
    and looked up; a model registered, served and asked for predictions by entity."""
    from test_predict_cli import DEFINITIONS, MODEL, ok, register_module
    target = ["--data_dir", str(running.data_dir)]
    # A second group whose expectation the store checks, so that ingest refuses a row.
    checked = {"name": "dash_checked", "entity": "pc_customer", "ownerSquad": "risk",
               "ttl": "86400s", "features": [{"name": "amount", "type": "FEATURE_TYPE_DOUBLE",
                                              "expectations": {"minValue": 0}}]}
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps(dict(DEFINITIONS, feature_groups=[
        *DEFINITIONS["feature_groups"], checked])))
    ok(fabrique("features", "apply", *target, str(defs)))
    now = int(time.time() * 1e6)
    profile, amounts = tmp_path / "profile.csv", tmp_path / "amounts.csv"
    profile.write_text(f"customer_id,event_time,tenure,plan\nc1,{now},2.0,gold\n")
    amounts.write_text(f"customer_id,event_time,amount\nc1,{now},-1\nc2,{now},3\n")
    ok(fabrique("features", "ingest", "--group", "pc_profile", *target, str(profile)))
    ok(fabrique("features", "ingest", "--group", "dash_checked", *target, str(amounts)))
    register_module(running, tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        served = fabrique("serving", *target)
        if served.returncode == 0 and " ready " in served.stdout and MODEL in served.stdout:
            break
        time.sleep(0.2)
    ok(fabrique("predict", MODEL, "--entity", "c1,c2", "--entity_name", "pc_customer", *target))


def test_every_metric_a_query_names_is_served_by_a_running_factory(running, stubs, tmp_path):
    make_traffic(running, tmp_path)
    rules = recording_rules()
    needed = {}  # exported name -> the queries naming it
    for dashboard, panel, expr in ALL_QUERIES:
        for name in metric_names(expr):
            for raw in raw_inputs(name, rules):
                needed.setdefault(raw, []).append(f"{dashboard} / {panel} ({name})")
    declared = declared_in_services()
    missing = []
    # Every service's metrics, scraped until the per-model ones have come (a prediction's
    # metrics are recorded as its answer leaves).
    deadline = time.monotonic() + 20
    while True:
        served = set()
        for endpoint in running.endpoints.values():
            served |= scrape(endpoint["metrics_port"])
        missing = []
        for name, where in sorted(needed.items()):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            if name in served:
                continue
            if family in NEEDS_DATA and family in declared:
                continue
            missing.append(f"{name}, named by: {'; '.join(sorted(set(where)))}")
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, "not served by fabrique up:\n" + "\n".join(missing)
    # The list of names taken on trust stays short: each one is named by a dashboard.
    named = {re.sub(r"_(bucket|sum|count)$", "", n) for n in needed}
    assert set(NEEDS_DATA) <= named, set(NEEDS_DATA) - named
