"""The monitor's closed chain through the real binaries: a fabrique-registry and a
fabrique-monitor run alone (--insecure, the monitor evaluating every 200ms), a version registered
with its reference profile, a policy set with `fabrique monitor policy set`, predictions whose
amounts lie far above training logged to the monitor; then the FEATURE_DRIFT alert fires on its
own, names the feature, points at a stored drift report, is acknowledged and silenced from the
CLI, and shows on the monitor's /metrics. With retraining enabled, a fake control tower receives
the policy's spec_template as the job the trigger submits."""

import json
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from concurrent import futures

import pytest

from conftest import BIN_DIR, fabrique
# amount spread evenly over 0..100, country half fr and half de, the probability over 0..1.
from test_monitor_reports_cli import profile_bytes

MODEL = "e2e-fraud"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_until(condition, what, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {timeout}s"
        time.sleep(0.1)


class FakeTower:
    """A control tower that only records the SubmitJob calls it receives."""

    def __init__(self):
        import grpc
        from fabrique.v1 import tower_pb2, tower_pb2_grpc

        jobs = self.jobs = []

        class Servicer(tower_pb2_grpc.TowerServicer):
            def SubmitJob(self, request, context):
                jobs.append(request)
                return tower_pb2.Job(id=f"job-{len(jobs)}")

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        tower_pb2_grpc.add_TowerServicer_to_server(Servicer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


def start(argv, ready, what):
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"{what} exited {process.returncode}:\n{process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{what} did not answer in time:\n{process.stdout.read()}")
        time.sleep(0.1)
    # Drain its output so a chatty service never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process


@pytest.fixture(scope="module")
def stack(stubs, tmp_path_factory):
    """A registry, a fake tower and a monitor evaluating every 200ms, all on loopback;
    e2e-fraud:1 registered with its profile. Yields (monitor CLI flags, gRPC target,
    metrics port, fake tower)."""
    data = tmp_path_factory.mktemp("e2e")
    registry_port, monitor_port, metrics_port = free_port(), free_port(), free_port()
    registry_flags = [f"--target=127.0.0.1:{registry_port}", "--insecure", "--timeout=5s"]
    monitor_flags = [f"--target=127.0.0.1:{monitor_port}", "--insecure", "--timeout=5s"]
    tower = FakeTower()
    processes = []
    try:
        processes.append(start(
            [str(BIN_DIR / "fabrique-registry"), "--insecure", "--listen_host=127.0.0.1",
             f"--port={registry_port}", "--metrics_port=-1", f"--data_dir={data / 'registry'}"],
            lambda: fabrique("models", "list", *registry_flags).returncode == 0, "registry"))
        processes.append(start(
            [str(BIN_DIR / "fabrique-monitor"), "--insecure", "--listen_host=127.0.0.1",
             f"--port={monitor_port}", f"--metrics_port={metrics_port}",
             f"--data_dir={data / 'monitor'}", "--evaluation_tick=200ms",
             f"--registry_target=127.0.0.1:{registry_port}",
             f"--tower_target=127.0.0.1:{tower.port}", "--trainer_target="],
            lambda: fabrique("monitor", "policy", "list", *monitor_flags).returncode == 0,
            "monitor"))
        ok(fabrique("models", "create", MODEL, "--squad", "risk", "--use-case", "uc-fraud",
                    "--task", "binary_classification", *registry_flags))
        path = data / "reference_profile.pb"
        path.write_bytes(profile_bytes())
        out = ok(fabrique("models", "upload", str(path), "--register", MODEL, "--kind",
                          "reference_profile", "--name", "reference_profile.pb",
                          *registry_flags))
        assert f"registered {MODEL}:1" in out
        yield monitor_flags, f"127.0.0.1:{monitor_port}", metrics_port, tower
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        tower.server.stop(0)


def set_policy(flags, tmp_path, retrain):
    policy = {
        "window": "3600s",
        "evaluation_interval": "1s",
        "min_samples": 50,
        "drift": [{"metric": "DRIFT_METRIC_PSI", "warning_threshold": 0.1,
                   "critical_threshold": 0.25, "features": ["amount"]}],
    }
    if retrain:
        policy["retrain"] = {
            "enabled": True, "min_severity": "SEVERITY_WARNING", "consecutive_windows": 1,
            "cooldown": "86400s",
            "spec_template": {"model_name": MODEL, "use_case_id": "uc-fraud", "epochs": 7,
                              "code_version": "e2e-retrain"}}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    ok(fabrique("monitor", "policy", "set", MODEL, str(path), *flags))


def log_shifted_predictions(target, prefix):
    """200 predictions of the last minutes whose amounts (150..250) all lie above the
    reference's 0..100, while their countries keep the reference's half fr, half de."""
    import grpc
    from fabrique.v1 import monitor_pb2 as m, monitor_pb2_grpc
    from google.protobuf import timestamp_pb2
    now = time.time()
    batch = m.LogPredictionsRequest(batch_id=str(uuid.uuid4()))
    for i in range(200):
        record = batch.predictions.add(prediction_id=f"{prefix}-{i}", predicted_label=str(i % 2))
        record.model_version.model, record.model_version.version = MODEL, 1
        record.time.CopyFrom(timestamp_pb2.Timestamp(seconds=int(now) - 60 + i // 4))
        record.inputs.add(double_value=150 + i * 0.5)
        record.inputs.add(string_value="fr" if i % 2 else "de")
        record.outputs.add(name="probability", values=[0.9 if i % 2 else 0.1])
    with grpc.insecure_channel(target) as channel:
        response = monitor_pb2_grpc.MonitorStub(channel).LogPredictions(iter([batch]), timeout=10)
    assert response.accepted == 200 and response.unknown_version == 0, response


def alerts(flags, *args):
    return json.loads(ok(fabrique("monitor", "alerts", MODEL, "--json", *args, *flags))
                      or "{}").get("alerts", [])


def firing_drift(flags):
    return [a for a in alerts(flags, "--state=firing") if a["kind"] == "ALERT_KIND_FEATURE_DRIFT"]


def metrics_text(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def metric_lines(text, name):
    return [line for line in text.splitlines() if line.startswith(name)]


def test_drift_alert_fires_is_acknowledged_and_shows_on_metrics(stack, tmp_path):
    flags, target, metrics_port, _ = stack
    set_policy(flags, tmp_path, retrain=False)
    log_shifted_predictions(target, "drift")

    alert = wait_until(lambda: firing_drift(flags), "a firing FEATURE_DRIFT alert")[0]
    assert "amount" in alert["summary"], alert
    assert alert["severity"] == "SEVERITY_CRITICAL", alert   # PSI far above 0.25.
    assert alert["features"] == ["amount"], alert
    assert alert["model_version"]["model"] == MODEL, alert
    report = json.loads(ok(fabrique("monitor", "drift", "--id", alert["report_id"], "--json",
                                    *flags)))
    assert report["report_id"] == alert["report_id"]
    amount = next(f for f in report["features"] if f["name"] == "amount")
    assert amount["status"] == "DRIFT_STATUS_DRIFTED", amount

    listed = ok(fabrique("monitor", "alerts", MODEL, "--state", "firing", *flags))
    assert alert["id"] in listed and "amount" in listed, listed

    text = wait_until(lambda: (lambda t: t if metric_lines(t, "fabrique_monitor_alerts_firing")
                               else None)(metrics_text(metrics_port)), "the alerts gauge")
    firing = metric_lines(text, "fabrique_monitor_alerts_firing")
    assert f'fabrique_monitor_alerts_firing{{model="{MODEL}",severity="critical"}} 1' in firing, \
        firing
    drifted = metric_lines(text, "fabrique_monitor_drift_detected")
    assert any('"amount"' in line and MODEL in line and line.rstrip().endswith(" 1")
               for line in drifted), drifted
    assert any('"country"' in line and line.rstrip().endswith(" 0") for line in drifted), drifted

    ack = fabrique("monitor", "alerts", "--ack", alert["id"], "--comment", "amounts doubled",
                   "--silence", "1h", *flags)
    ok(ack)
    acknowledged = [a for a in alerts(flags, "--state=acknowledged") if a["id"] == alert["id"]]
    assert acknowledged, alerts(flags)
    assert acknowledged[0]["state"] == "ALERT_STATE_ACKNOWLEDGED"
    assert acknowledged[0]["acknowledge_comment"] == "amounts doubled"
    assert "silenced_until" in acknowledged[0]
    assert not [a for a in firing_drift(flags) if a["id"] == alert["id"]]
    # Acknowledged is no longer firing: the gauge falls back once the alert left that state.
    wait_until(lambda: f'fabrique_monitor_alerts_firing{{model="{MODEL}",severity="critical"}} 0'
               in metric_lines(metrics_text(metrics_port), "fabrique_monitor_alerts_firing"),
               "the alerts gauge back at 0")


def test_retrain_trigger_submits_the_spec_template_to_the_tower(stack, tmp_path):
    from fabrique.v1 import tower_pb2
    flags, target, _, tower = stack
    set_policy(flags, tmp_path, retrain=True)
    log_shifted_predictions(target, "retrain")
    wait_until(lambda: tower.jobs, "a SubmitJob at the tower")
    job = tower.jobs[0]
    assert job.spec.WhichOneof("work") == "training", job
    assert job.spec.training.model_name == MODEL
    assert job.spec.training.use_case_id == "uc-fraud"
    assert job.spec.training.epochs == 7
    assert job.spec.training.code_version == "e2e-retrain"
    assert job.squad == "risk", job
    assert job.trigger == tower_pb2.JOB_TRIGGER_MONITOR and job.request_id, job
    retrained = wait_until(
        lambda: [a for a in alerts(flags) if a.get("retrain_job_id") == "job-1"],
        "the alert naming the retrain job")
    assert retrained[0]["kind"] == "ALERT_KIND_FEATURE_DRIFT", retrained
    # Later evaluations still breach, but the day's cooldown holds further jobs back.
    time.sleep(1.5)
    assert len(tower.jobs) == 1, tower.jobs
