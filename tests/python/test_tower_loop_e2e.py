"""The closed loop through the real binaries of a `fabrique up`: a model trained on ingested
features and promoted to production; squad risk onboarded at the tower (decided by a second
platform admin) with a use case whose retraining policy canaries at 20% and asks for production;
production's promotion policy left to its metric gate and the monitor's canary comparison; a
monitoring policy that asks for a retrain on the first drift alert. Then drifted customers are
ingested and played with `fabrique traffic`, and each step is awaited in turn, within three
minutes: the drift alert, the retraining job at the tower, the job SUCCEEDED with its version, the
candidate alias on it with a 20% canary, the production alias on it (promoted by policy), and the
traffic's exit 0 (no prediction failed)."""

import json
import math
import random
import re
import subprocess
import time

from conftest import BIN_DIR, fabrique

MODEL = "loop-fraud"
USE_CASE = "loop-card-fraud"
CUSTOMERS = 1000
DRIFTED = 600


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def payments(prefix, count, scale, t0, rng):
    """`count` customers' payments at t0 (microseconds) and their fraud labels an hour later:
    amounts exponential with mean 80 x `scale`, fraud when above 120 (5% of labels flipped)."""
    rows, keys, times, labels = [], [], [], []
    for i in range(1, count + 1):
        amount = -math.log(1 - rng.random()) * 80 * scale
        country = ["FR", "DE", "IT", "ES", "NL"][int(rng.random() * 5)]
        fraud = int((amount > 120) != (rng.random() < 0.05))
        rows.append(f"{prefix}{i},{t0 + i},{amount:.2f},{country}")
        keys.append(f"{prefix}{i}")
        times.append(t0 + 3600_000_000 + i)
        labels.append(fraud)
    return rows, keys, times, labels


def spec(keys, times, labels):
    return {"model_name": MODEL, "use_case_id": USE_CASE,
            "features": [{"group": "loop_payments", "feature": "amount"},
                         {"group": "loop_payments", "feature": "country"}],
            "label": {"events": {"entity_keys": [{"entity": "loop_customer", "keys": keys}],
                                 "event_time_unix_micros": times,
                                 "labels": {"int64_values": {"values": labels}}}},
            "task": "TASK_BINARY_CLASSIFICATION", "family": {"mlp": {"hidden_sizes": [16]}},
            "optimizer": {"learning_rate": 0.01}, "epochs": 5, "batch_size": 128,
            "split": {"random": {"validation_fraction": 0.2, "seed": 1}}, "seed": 7}


def test_drift_retrains_canaries_and_promotes_by_policy_with_no_failed_prediction(
        running, tmp_path):
    data = ["--data_dir", str(running.data_dir)]
    dana = ["--token", running.token("dana", ["risk:data-scientist", "risk:data-engineer"])]
    rita = ["--token", running.token("rita", ["risk:design-authority"])]

    def cli(*args, who=(), timeout=60):
        return fabrique(*args, *data, *who, timeout=timeout)

    # ---- A model in production, trained on ingested features ----
    rng = random.Random(7)
    now = int(time.time())
    base = payments("c", CUSTOMERS, 1, (now - 86400) * 1_000_000, rng)
    drifted = payments("d", DRIFTED, 3, (now - 7200) * 1_000_000, rng)
    (tmp_path / "defs.json").write_text(json.dumps({
        "entities": [{"name": "loop_customer", "join_key": "customer_id", "owner_squad": "risk"}],
        "feature_groups": [{"name": "loop_payments", "entity": "loop_customer",
                            "owner_squad": "risk", "ttl": "604800s",
                            "features": [{"name": "amount", "type": "FEATURE_TYPE_DOUBLE"},
                                         {"name": "country", "type": "FEATURE_TYPE_STRING"}]}]}))
    header = "customer_id,event_time,amount,country\n"
    (tmp_path / "base.csv").write_text(header + "\n".join(base[0]) + "\n")
    (tmp_path / "drifted.csv").write_text(header + "\n".join(drifted[0]) + "\n")
    (tmp_path / "traffic.csv").write_text(
        "customer_id,fraud\n" + "".join(f"{k},{y}\n" for k, y in zip(drifted[1], drifted[3])))
    (tmp_path / "spec.json").write_text(json.dumps(spec(*base[1:])))
    retrain_spec = spec(base[1] + drifted[1], base[2] + drifted[2], base[3] + drifted[3])
    ok(cli("features", "apply", str(tmp_path / "defs.json"), who=dana))
    ok(cli("features", "ingest", "--group", "loop_payments", str(tmp_path / "base.csv"),
           who=dana))
    trained = ok(cli("train", "submit", str(tmp_path / "spec.json"), who=dana, timeout=120))
    first = int(re.search(rf"registered: *{MODEL}:(\d+)", trained).group(1))
    ok(cli("models", "alias", MODEL, "production", str(first), who=dana))

    # ---- The tower: squad risk onboarded, decided by a second admin; the use case ----
    onboard = ok(cli("tower", "entities", "onboard", "--id", "retail", "--name", "Retail",
                     "--budget", "50000 EUR", "--squad", "risk=Credit risk", "--cpu", "4",
                     "--memory", "8Gi"))
    approval = re.search(r"^approval: *(\S+)", onboard, re.M).group(1)
    policy = running.auth_dir / "policy.csv"
    policy.write_text(policy.read_text() + "g, user:ops, *:platform-admin\n")
    ops = ["--token", running.token("ops")]
    deadline = time.monotonic() + 60
    while True:
        decided = cli("tower", "approvals", "approve", approval, who=ops)
        if decided.returncode == 0 or time.monotonic() > deadline:
            break
        assert "PERMISSION_DENIED" in decided.stderr, decided.stderr
        time.sleep(0.5)
    ok(decided)
    use_case = json.loads(ok(cli("tower", "usecases", "create", USE_CASE, "--squad", "risk",
                                 "--name", "Card fraud", "--value", "1200000 EUR", "--cost",
                                 "300000 EUR", "--size", "3", "--model", MODEL, "--canary", "20",
                                 "--promote_to", "production")))
    assert use_case["retraining"]["promote_to_alias"] == "production", use_case

    # ---- Production by policy; the monitor asks for a retrain on the first drift alert ----
    (tmp_path / "promotion.json").write_text(json.dumps({
        "metricGates": [{"metric": "auc", "op": "COMPARISON_OP_GREATER_OR_EQUAL", "value": 0.8}],
        "monitorComparisonGates": [{"metric": "auc", "maxDegradation": 0.05, "minLabelled": 30,
                                    "window": "600s"}]}))
    ok(cli("models", "policy", MODEL, "production", "--set", str(tmp_path / "promotion.json"),
           who=rita))
    (tmp_path / "monitoring.json").write_text(json.dumps({
        "evaluationInterval": "5s", "minSamples": 200,
        "drift": [{"metric": "DRIFT_METRIC_PSI", "warningThreshold": 0.1,
                   "criticalThreshold": 0.25, "features": ["loop_payments:amount"]}],
        "retrain": {"enabled": True, "minSeverity": "SEVERITY_WARNING", "consecutiveWindows": 1,
                    "cooldown": "600s", "specTemplate": retrain_spec}}))
    ok(cli("monitor", "policy", "set", MODEL, str(tmp_path / "monitoring.json"), who=dana))

    # ---- Drift injected; each step of the loop awaited within three minutes ----
    start = time.monotonic()
    deadline = start + 180
    steps = []
    ok(cli("features", "ingest", "--group", "loop_payments", str(tmp_path / "drifted.csv"),
           who=dana))
    stop = tmp_path / "stop-traffic"
    traffic_log = (tmp_path / "traffic.log").open("w")
    traffic = subprocess.Popen(
        [str(BIN_DIR / "fabrique"), "traffic", MODEL, "--entities", str(tmp_path / "traffic.csv"),
         "--key_column", "customer_id", "--label_column", "fraud", "--rate", "20", "--batch",
         "10", "--duration", "600s", "--stop_file", str(stop), *data, *dana],
        stdout=traffic_log, stderr=subprocess.STDOUT, text=True)

    def await_step(what, condition):
        while True:
            value = condition()
            if value:
                steps.append((what, time.monotonic() - start))
                return value
            assert traffic.poll() is None, (tmp_path / "traffic.log").read_text()
            assert time.monotonic() < deadline, (
                f"{what} not within 180s of the drift; so far: {steps}\n"
                + (tmp_path / "traffic.log").read_text()[-2000:])
            time.sleep(0.5)

    def json_of(*args, who=()):
        result = cli(*args, "--json", who=who)
        return json.loads(result.stdout) if result.returncode == 0 else None

    try:
        await_step("drift alert", lambda: [
            a for a in (json_of("monitor", "alerts", MODEL, who=dana) or {}).get("alerts", [])
            if "DRIFT" in a["kind"]])
        jobs = await_step("retraining job at the tower", lambda: [
            j for j in (json_of("tower", "jobs", "list", "--use_case", USE_CASE) or {}).get(
                "jobs", []) if j.get("trigger") == "JOB_TRIGGER_MONITOR"])
        assert len(jobs) == 1, jobs
        job_id = jobs[0]["id"]
        assert jobs[0]["squad"] == "risk", jobs[0]

        def succeeded():
            job = json_of("tower", "jobs", "show", job_id) or {}
            assert job.get("state") not in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"), job
            return job if job.get("state") == "JOB_STATE_SUCCEEDED" else None

        job = await_step("job succeeded", succeeded)
        retrained = int(job["result_version"]["version"])
        assert retrained > first, job

        def alias(name):
            result = cli("models", "alias", MODEL, name, who=dana)
            row = result.stdout.splitlines()[1:2] if result.returncode == 0 else []
            return row and int(row[0].split()[1]) == retrained

        await_step("candidate alias with a 20% canary", lambda: alias("candidate") and (
            "20% of traffic to candidate" in cli("models", "traffic", MODEL, who=dana).stdout))
        await_step("production alias (promoted by policy)", lambda: alias("production"))
    finally:
        stop.touch()
        code = traffic.wait(timeout=60)
        traffic_log.close()
    shown = ok(cli("tower", "jobs", "show", job_id))
    assert "promotion" in shown and "to production" in shown, shown
    log = (tmp_path / "traffic.log").read_text()
    assert code == 0, log
    assert re.search(r"failed 0 ", log), log
    print("drift injected ->", ", ".join(f"{what} +{t:.1f}s" for what, t in steps))
