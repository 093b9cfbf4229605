"""The Grafana dashboards of deploy/grafana: well-formed dashboards on a `${datasource}`
variable, every panel's query accepted by promtool, and every metric a query names served by a
running `fabrique up` (recorded series through the deploy/prometheus rules that define them)."""

import json
import re
import subprocess
import time
import urllib.request

import pytest
import yaml

from conftest import REPO, fabrique

DASHBOARDS = sorted((REPO / "deploy" / "grafana").glob("*.json"))
RULE_FILES = sorted(p for p in (REPO / "deploy" / "prometheus").glob("*rules.yaml"))

# Series a running factory shows only once events happen that this test does not cause (a
# shadow scoring failing, an alert raised by the monitor's scheduled evaluation, a preemption).
# For these, the name must be one a service declares (services/**); the tests of those features
# read them from the binaries' /metrics.
NEEDS_DATA = {
    "fabrique_inference_shadow_failures_total": "a shadow version that fails",
    "fabrique_monitor_alerts_firing": "the monitor's scheduled evaluation of a policy",
    "fabrique_tower_preemptions_total": "a preempted job",
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


def poll(condition, what, timeout=60):
    """Calls `condition` until it returns true; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)


def succeeds(*args):
    """A condition for poll(): `fabrique ARGS` exits 0."""
    return lambda: fabrique(*args).returncode == 0


def feed_features_and_serving(running, tmp_path):
    """Features applied, ingested (a row refused) and looked up by a model registered, served
    and asked for predictions by entity."""
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

    predict = succeeds("predict", MODEL, "--entity", "c1,c2", "--entity_name", "pc_customer",
                       *target)
    # The inference server serves the version once it has followed the registry.
    poll(predict, "a prediction")
    # The same version as the candidate, half the traffic to it and shadow scoring on all.
    ok(fabrique("models", "alias", MODEL, "candidate", "1", *target))
    ok(fabrique("models", "traffic", MODEL, "--canary", "50", "--shadow", *target))
    port = running.endpoints["inference"]["metrics_port"]
    poll(lambda: predict() and "fabrique_inference_policy_routes_total" in scrape(port),
         "a prediction routed by the traffic policy")


def feed_monitor(running, tmp_path):
    """A version registered with its training metrics and its reference profile, drifted
    predictions and outcomes logged, a policy whose amount test has a p-value (KS), and the
    drift and performance reports asked for (which publish the report gauges)."""
    from fabrique.v1 import monitor_pb2 as m
    from test_monitor_report_cli import MODEL, log_traffic, reference_profile, register
    register(running)  # the model, and a first version without metrics
    signature = {"classLabels": ["repaid", "default"],
                 "inputs": [{"name": "amount", "datatype": "FP32", "shape": ["-1", "1"]},
                            {"name": "channel", "datatype": "BYTES", "shape": ["-1", "1"]}],
                 "outputs": [{"name": "probability", "datatype": "FP32", "shape": ["-1", "1"]}]}
    (tmp_path / "signature.json").write_text(json.dumps(signature))
    (tmp_path / "model.pt").write_bytes(b"never served")
    registered = fabrique("models", "upload", str(tmp_path / "model.pt"), "--register", MODEL,
                          "--metric", "auc=0.86", "--signature", str(tmp_path / "signature.json"),
                          "--noprogress", "--data_dir", running.data_dir)
    assert registered.returncode == 0, registered.stderr
    version = int(re.search(rf"{MODEL}[: v]+(\d+)", registered.stdout).group(1))
    channel, monitor = log_traffic(running, version)
    monitor.PutReferenceProfile(m.PutReferenceProfileRequest(
        profile=reference_profile(version)), timeout=10)
    monitor.SetMonitoringPolicy(m.SetMonitoringPolicyRequest(policy=m.MonitoringPolicy(
        model=MODEL, drift=[m.DriftThreshold(metric=m.DRIFT_METRIC_KS, features=["amount"])])),
        timeout=10)
    channel.close()
    report = fabrique("monitor", "report", f"{MODEL}:{version}", "--from", "2h", "--html",
                      str(tmp_path / "report.html"), "--data_dir", running.data_dir, timeout=60)
    assert report.returncode == 0, report.stderr
    # Its artifact is no module: served, it fails to load.
    aliased = fabrique("models", "alias", MODEL, "production", str(version), "--data_dir",
                       running.data_dir)
    assert aliased.returncode == 0, aliased.stderr


def feed_tower(running, tmp_path):
    """An entity onboarded with a budget and a squad with quota, approved by a second platform
    admin, and a job submitted for that squad (that the local executor cannot start: it counts
    all the same)."""
    data = ["--data_dir", str(running.data_dir)]
    onboard = fabrique("tower", "entities", "onboard", "--id", "dash", "--name", "Dashboards",
                       "--budget", "1000 EUR", "--squad", "dash=Dashboards", "--cpu", "8",
                       "--memory", "32Gi", *data)
    assert onboard.returncode == 0, onboard.stderr
    approval = [line.split(": ", 1)[1] for line in onboard.stdout.splitlines()
                if line.startswith("approval: ")][0]
    policy = running.auth_dir / "policy.csv"
    policy.write_text(policy.read_text() + "g, user:dash-ops, *:platform-admin\n")
    ops = running.token("dash-ops")
    # The policy file is reloaded within seconds.
    poll(succeeds("tower", "approvals", "approve", approval, *data, "--token", ops),
         "the onboarding approved by a second platform admin")
    spec = tmp_path / "run.json"
    spec.write_text(json.dumps({"model_name": "dash", "epochs": 1}))
    fabrique("tower", "submit", str(spec), "--squad", "dash", "--cpu", "500m", "--memory", "1Gi",
             *data)


def test_every_metric_a_query_names_is_served_by_a_running_factory(running, stubs, tmp_path):
    feed_features_and_serving(running, tmp_path)
    feed_monitor(running, tmp_path)
    feed_tower(running, tmp_path)
    rules = recording_rules()
    needed = {}  # exported name -> the queries naming it
    for dashboard, panel, expr in ALL_QUERIES:
        for name in metric_names(expr):
            for raw in raw_inputs(name, rules):
                needed.setdefault(raw, []).append(f"{dashboard} / {panel} ({name})")
    declared = declared_in_services()
    missing = []
    # Every service's metrics, scraped until the late ones have come: a prediction's metrics are
    # recorded as its answer leaves, a load failure as the inference server follows the registry.
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
