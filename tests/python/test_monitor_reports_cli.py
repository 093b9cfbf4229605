"""Drift and performance reports through the real binaries: a version registered with its
reference profile as the trainer registers it, predictions and outcomes logged to the monitor as
inference servers and squads' systems send them, then `fabrique monitor drift` and `fabrique
monitor performance` as a data scientist runs them: the tables, the JSON, the stored report by
id, and the exit codes of what goes wrong."""

import json
import time
import uuid

import pytest

from conftest import fabrique

MODEL = "mon-fraud"


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def monitor_cli(running, *args):
    return fabrique("monitor", *args, "--data_dir", str(running.data_dir), timeout=60)


def profile_bytes():
    """The profile the trainer would register: amount spread evenly over 0..100 (as bins, the
    form profiles had before sketches), country half fr and half de, the probability over 0..1."""
    from fabrique.v1 import common_pb2 as c
    profile = c.ReferenceProfile(row_count=500)
    amount = profile.features.add(name="amount", count=500)
    amount.numeric.CopyFrom(c.NumericSummary(
        count=500, mean=50, stddev=28.9, min_value=0, max_value=100,
        bin_edges=[10.0 * i for i in range(11)], bin_fractions=[0.1] * 10))
    country = profile.features.add(name="country", count=500)
    country.categorical.categories.add(value="fr", count=250, fraction=0.5)
    country.categorical.categories.add(value="de", count=250, fraction=0.5)
    country.categorical.distinct_count = 2
    probability = profile.predictions.add(name="probability", count=500)
    probability.numeric.CopyFrom(c.NumericSummary(
        count=500, mean=0.5, stddev=0.29, min_value=0, max_value=1,
        bin_edges=[0.1 * i for i in range(11)], bin_fractions=[0.1] * 10))
    return profile.SerializeToString()


@pytest.fixture(scope="module")
def logged(stubs, running, connect, tmp_path_factory):
    """mon-fraud:1 registered with its profile and metrics, production alias on it, 200
    predictions of the last minutes whose amounts moved up by 50, outcomes for the first 100."""
    from fabrique.v1 import common_pb2 as c, monitor_pb2 as m, monitor_pb2_grpc
    from google.protobuf import timestamp_pb2
    folder = tmp_path_factory.mktemp("profile")
    data_dir = str(running.data_dir)
    ok(fabrique("models", "create", MODEL, "--squad", "risk", "--use-case", "uc-fraud",
                "--task", "binary_classification", "--data_dir", data_dir))
    path = folder / "reference_profile.pb"
    path.write_bytes(profile_bytes())
    out = ok(fabrique("models", "upload", str(path), "--register", MODEL, "--kind",
                      "reference_profile", "--name", "reference_profile.pb", "--metric",
                      "accuracy=0.75", "--metric", "auc=0.8", "--data_dir", data_dir,
                      timeout=60))
    assert f"registered {MODEL}:1" in out
    ok(fabrique("models", "alias", MODEL, "production", "1", "--data_dir", data_dir))

    monitor = monitor_pb2_grpc.MonitorStub(connect("monitor"))
    now = time.time()
    batch = m.LogPredictionsRequest(batch_id=str(uuid.uuid4()))
    for i in range(200):
        record = batch.predictions.add(prediction_id=f"mf-{i}", predicted_label=str(i % 2))
        record.model_version.model, record.model_version.version = MODEL, 1
        record.time.CopyFrom(timestamp_pb2.Timestamp(seconds=int(now) - 120 + i // 4))
        record.inputs.add(double_value=50 + i * 0.5)
        record.inputs.add(string_value="fr" if i % 2 else "de")
        record.outputs.add(name="probability", values=[0.9 if i % 2 else 0.1])
    response = monitor.LogPredictions(iter([batch]), timeout=30)
    assert response.accepted == 200 and response.unknown_version == 0
    outcomes = m.LogOutcomesRequest(batch_id=str(uuid.uuid4()))
    for i in range(100):
        outcomes.outcomes.add(prediction_id=f"mf-{i}", label=c.Value(bool_value=bool(i % 2)),
                              observe_time=timestamp_pb2.Timestamp(seconds=int(now)))
    joined = monitor.LogOutcomes(iter([outcomes]), timeout=30)
    assert joined.matched == 100
    return MODEL


def test_drift_table_compares_the_live_window_with_the_registered_profile(running, logged):
    out = ok(monitor_cli(running, "drift", logged))   # No selector: the production alias.
    assert f"{logged}:1" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert "DRIFTED" in lines["amount"], out
    assert "ks*" in lines["amount"], out             # AUTO's test on fewer than 1000 rows.
    assert "no drift" in lines["country"], out
    assert "probability" in lines, out
    assert "dataset drift: 1 of 2 evaluated inputs drifted" in out


def test_drift_json_is_stored_and_fetched_by_id(running, logged):
    report = json.loads(ok(monitor_cli(running, "drift", f"{logged}:1", "--json",
                                       "--from", "-1h", "--to", "now")))
    amount = report["features"][0]
    assert amount["name"] == "amount" and amount["status"] == "DRIFT_STATUS_DRIFTED"
    assert amount["out_of_range_count"] == "99"   # 100.5 .. 149.5 lie above the reference's 100.
    score = amount["scores"][0]
    assert score["metric"] == "DRIFT_METRIC_KS" and score["auto_selected"]
    assert score["reference_count"] == "500" and score["current_count"] == "200"
    assert report["dataset_drift"]["drifted"]
    again = json.loads(ok(monitor_cli(running, "drift", "--id", report["report_id"], "--json")))
    assert again["report_id"] == report["report_id"]
    assert again["features"][0]["status"] == "DRIFT_STATUS_DRIFTED"


def test_performance_sets_live_metrics_beside_training(running, logged):
    report = json.loads(ok(monitor_cli(running, "performance", f"{logged}:1", "--json")))
    assert report["prediction_count"] == "200" and report["labelled_count"] == "100"
    assert report["label_coverage"] == pytest.approx(0.5)
    metrics = {metric["name"]: metric for metric in report["metrics"]}
    assert metrics["accuracy"]["value"] == pytest.approx(1.0)
    assert metrics["accuracy"]["baseline"] == pytest.approx(0.75)
    assert metrics["auc"]["baseline"] == pytest.approx(0.8)
    out = ok(monitor_cli(running, "performance", logged, "--bucket", "1h"))
    assert "label coverage 50.0%" in out and "accuracy" in out and "BUCKET START" in out


def test_what_cannot_be_reported_exits_1_and_bad_usage_exits_2(running, logged):
    unknown = monitor_cli(running, "drift", "no-such-model:1")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
    no_alias = monitor_cli(running, "drift", f"{logged}@candidate")
    assert no_alias.returncode == 1 and "NOT_FOUND" in no_alias.stderr
    backwards = monitor_cli(running, "drift", logged, "--from", "now", "--to", "-1h")
    assert backwards.returncode == 1 and "INVALID_ARGUMENT" in backwards.stderr
    assert monitor_cli(running, "drift", logged, "--from", "yesterday").returncode == 2
    assert monitor_cli(running, "drift", logged, "--test", "nope").returncode == 2
    assert monitor_cli(running, "performance").returncode == 2
    missing = monitor_cli(running, "performance", "--id", "NOSUCHREPORT")
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
