"""The trainer end to end, as a squad uses it: features defined and ingested in the real feature
store, a run submitted to the real trainer and watched to the end, and the version it registered
read back from the real registry, with its artifacts and lineage, and counted in the trainer's
metrics; and the failures a user meets: unknown features, a missing label, a GPU that is not
there, an empty training set, a cancel, a deadline; and a stop and a failed start that keep the
queued runs queued. Every call is dana's, a data scientist and data engineer of the risk squad,
over TLS with her token. Waits are on the run's events, or polls with a deadline."""

import time
import urllib.request

import grpc
import pytest

SECOND = 1_000_000  # microseconds
ROWS = 600


# The groups of dana's token: the default policy reads SQUAD:ROLE as ROLE in SQUAD.
GROUPS = ["risk:data-scientist", "risk:data-engineer"]


@pytest.fixture(scope="module")
def clients(connect):
    from fabrique.v1 import features_pb2_grpc, registry_pb2_grpc, trainer_pb2_grpc
    return (features_pb2_grpc.FeatureStoreStub(connect("features", "dana", GROUPS)),
            registry_pb2_grpc.ModelRegistryStub(connect("registry", "dana", GROUPS)),
            trainer_pb2_grpc.TrainerStub(connect("trainer", "dana", GROUPS)))


@pytest.fixture(scope="module")
def labelled(clients):
    """Two features of ROWS customers, and label events an hour after them: 1 when x0 + x1 > 0."""
    import random
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    fs = clients[0]
    fs.ApplyEntity(f.ApplyEntityRequest(entity=f.Entity(name="client", join_key="client_id",
                                                        owner_squad="risk")), timeout=5)
    spec = f.FeatureGroupSpec(name="signals", entity="client", owner_squad="risk")
    spec.features.add(name="x0", type=c.FEATURE_TYPE_DOUBLE)
    spec.features.add(name="x1", type=c.FEATURE_TYPE_DOUBLE)
    fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)
    rng = random.Random(4)
    base = int(time.time() * 1e6) - 3 * 3600 * SECOND
    keys = [f"k{i}" for i in range(ROWS)]
    x0 = [rng.gauss(0, 1) for _ in keys]
    x1 = [rng.gauss(0, 1) for _ in keys]
    rows = f.RowBatch(entity_keys=keys, event_time_unix_micros=[base + i for i in range(ROWS)])
    rows.columns.add(feature=c.FeatureRef(feature="x0"),
                     values=c.ValueColumn(double_values=c.DoubleList(values=x0)))
    rows.columns.add(feature=c.FeatureRef(feature="x1"),
                     values=c.ValueColumn(double_values=c.DoubleList(values=x1)))
    reply = fs.Ingest(iter([f.IngestRequest(group="signals", batch_id="signals-1", rows=rows)]),
                      timeout=20)
    assert reply.rows_written == ROWS
    events = c.LabelEventBatch(
        entity_keys=[c.EntityKeys(entity="client", keys=keys)],
        event_time_unix_micros=[base + 3600 * SECOND + i for i in range(ROWS)],
        labels=c.ValueColumn(int64_values=c.Int64List(
            values=[1 if a + b > 0 else 0 for a, b in zip(x0, x1)])))
    return events, base


def run_spec(labelled, **overrides):
    from fabrique.v1 import common_pb2 as c
    events, _ = labelled
    spec = c.RunSpec(model_name="signals-model", use_case_id="uc-signals",
                     features=[c.FeatureRef(group="signals", feature="x0"),
                               c.FeatureRef(group="signals", feature="x1")],
                     label=c.LabelSource(events=events), task=c.TASK_BINARY_CLASSIFICATION,
                     epochs=8, batch_size=64, device=c.DEVICE_CPU, threads=1, seed=3)
    spec.family.mlp.hidden_sizes.extend([16])
    spec.optimizer.learning_rate = 0.01
    spec.split.random.seed = 1
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def samples_trained(running):
    """fabrique_trainer_samples_trained_total, scraped from the trainer's /metrics."""
    port = running.endpoints["trainer"]["metrics_port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        body = response.read().decode()
    for line in body.splitlines():
        if line.startswith("fabrique_trainer_samples_trained_total "):
            return float(line.split()[1])
    raise AssertionError("the trainer's /metrics has no fabrique_trainer_samples_trained_total")


def await_state(trainer, run_id, state, timeout=120):
    """Follows the run's events until it enters `state`."""
    from fabrique.v1 import trainer_pb2 as t
    events = trainer.WatchRun(t.WatchRunRequest(run_id=run_id), timeout=timeout)
    for event in events:
        if event.HasField("state_change") and event.state_change.to_state == state:
            events.cancel()
            return
        assert not event.HasField("final_run"), f"the run ended first: {event.final_run}"
    raise AssertionError(f"run {run_id} never entered {t.RunState.Name(state)}")


def watch_to_end(trainer, run_id, timeout=120):
    from fabrique.v1 import trainer_pb2 as t
    events = list(trainer.WatchRun(t.WatchRunRequest(run_id=run_id), timeout=timeout))
    assert events and events[-1].HasField("final_run"), events[-3:]
    return events


def test_a_run_goes_from_features_to_a_registered_version(clients, labelled, running):
    from fabrique.v1 import common_pb2 as c, registry_pb2 as r, trainer_pb2 as t
    _, registry, trainer = clients
    samples_before = samples_trained(running)
    run = trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec(labelled), request_id="e2e-1"),
                            timeout=30)
    assert run.state == t.RUN_STATE_QUEUED and run.submitted_by.subject == "dana"
    again = trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec(labelled), request_id="e2e-1"),
                              timeout=30)
    assert again.run_id == run.run_id  # The same request id: the same run.

    events = watch_to_end(trainer, run.run_id)
    final = events[-1].final_run
    assert final.state == t.RUN_STATE_SUCCEEDED, final.failure_reason
    states = [e.state_change.to_state for e in events if e.HasField("state_change")]
    assert states == [t.RUN_STATE_QUEUED, t.RUN_STATE_BUILDING_DATASET, t.RUN_STATE_TRAINING,
                      t.RUN_STATE_EVALUATING, t.RUN_STATE_REGISTERING, t.RUN_STATE_SUCCEEDED]
    assert sum(e.epoch_end for e in events) == 8
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    auc = {m.name: m.value for m in final.metrics}["auc"]
    assert auc > 0.9
    assert final.split_counts.train_rows + final.split_counts.validation_rows == ROWS

    version = registry.GetVersion(r.GetVersionRequest(ref=c.ModelRef(
        model="signals-model", version=final.registered_version.version)), timeout=10)
    assert sorted(a.name for a in version.artifacts) == [
        "model.pt", "model_card.md", "reference_profile.pb"]
    assert version.lineage.trainer_run_id == run.run_id
    assert version.lineage.dataset_ids == [final.dataset_id]
    assert [i.name for i in version.signature.inputs] == ["signals:x0", "signals:x1"]
    assert version.registered_by.subject == "dana"
    # Resuming the watch after the last sequence gets nothing more, and ends.
    rest = list(trainer.WatchRun(t.WatchRunRequest(run_id=run.run_id,
                                                   after_sequence=events[-1].sequence),
                                 timeout=5))
    assert rest == []
    listed = trainer.ListRuns(t.ListRunsRequest(model_name="signals-model"), timeout=5)
    assert run.run_id in [x.run_id for x in listed.runs]
    # The metric counts every training row of every epoch; it is kept as the run ends, just after
    # its last event.
    expected = samples_before + final.split_counts.train_rows * 8
    deadline = time.monotonic() + 30
    while samples_trained(running) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert samples_trained(running) == expected


def test_bad_specs_are_refused_before_any_work(clients, labelled):
    from fabrique.v1 import common_pb2 as c, trainer_pb2 as t
    trainer = clients[2]
    bad = run_spec(labelled)
    bad.features.add(group="signals", feature="nope")
    with pytest.raises(grpc.RpcError) as unknown:
        trainer.SubmitRun(t.SubmitRunRequest(spec=bad), timeout=10)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "signals:nope" in unknown.value.details()
    no_label = run_spec(labelled)
    no_label.ClearField("label")
    with pytest.raises(grpc.RpcError) as missing:
        trainer.SubmitRun(t.SubmitRunRequest(spec=no_label), timeout=10)
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as cuda:
        trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec(labelled, device=c.DEVICE_CUDA)),
                          timeout=10)
    assert cuda.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    searched = run_spec(labelled)
    searched.search.max_trials = 3
    searched.search.ranges.add(name="optimizer.lr", choices=c.StringList(values=["0.1"]))
    with pytest.raises(grpc.RpcError) as search:
        trainer.SubmitRun(t.SubmitRunRequest(spec=searched), timeout=10)
    assert search.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "optimizer.lr" in search.value.details()
    with pytest.raises(grpc.RpcError) as nothing:
        trainer.GetRun(t.GetRunRequest(run_id="no-such-run"), timeout=5)
    assert nothing.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_empty_training_set_fails_the_run_and_a_cancel_registers_nothing(clients, labelled):
    from fabrique.v1 import common_pb2 as c, trainer_pb2 as t
    registry, trainer = clients[1], clients[2]
    _, base = labelled
    empty = run_spec(labelled)
    empty.time_range.end_time.FromMicroseconds(base - 3600 * SECOND)  # Before every label.
    run = trainer.SubmitRun(t.SubmitRunRequest(spec=empty), timeout=30)
    final = watch_to_end(trainer, run.run_id)[-1].final_run
    assert final.state == t.RUN_STATE_FAILED
    assert "training set is empty" in final.failure_reason
    assert "time range" in final.failure_reason

    long = run_spec(labelled, epochs=100000, model_name="never-registered")
    run = trainer.SubmitRun(t.SubmitRunRequest(spec=long), timeout=30)
    await_state(trainer, run.run_id, t.RUN_STATE_TRAINING)
    trainer.CancelRun(t.CancelRunRequest(run_id=run.run_id, reason="test"), timeout=5)
    final = watch_to_end(trainer, run.run_id)[-1].final_run
    assert final.state == t.RUN_STATE_CANCELLED
    assert not final.HasField("registered_version")
    from fabrique.v1 import registry_pb2 as r
    with pytest.raises(grpc.RpcError) as absent:
        registry.GetModel(r.GetModelRequest(name="never-registered"), timeout=5)
    assert absent.value.code() == grpc.StatusCode.NOT_FOUND
    # A deadline given at submit stops a run that would outlast it, and fails it, saying where
    # it was (where that is depends on the machine's speed; tests/training pins each case down
    # on a fake clock).
    bounded = run_spec(labelled, epochs=100000, model_name="never-registered")
    request = t.SubmitRunRequest(spec=bounded)
    request.deadline.FromSeconds(2)
    run_late = trainer.SubmitRun(request, timeout=30)
    late = watch_to_end(trainer, run_late.run_id)[-1].final_run
    assert late.state == t.RUN_STATE_FAILED
    assert "the run's deadline passed while " in late.failure_reason
    assert not late.HasField("registered_version")

    # Cancelling an ended run is a no-op that says how it ended.
    again = trainer.CancelRun(t.CancelRunRequest(run_id=run.run_id), timeout=5)
    assert again.state == t.RUN_STATE_CANCELLED


def test_the_cli_submits_follows_shows_lists_and_cancels(clients, labelled, running, tmp_path):
    import re
    from google.protobuf import json_format
    from conftest import fabrique
    target = ["--target", running.endpoints["trainer"]["grpc"], "--ca",
              str(running.auth_dir / "ca.crt"), "--token", running.token("dana", GROUPS)]
    spec = tmp_path / "spec.json"
    spec.write_text(json_format.MessageToJson(run_spec(labelled, model_name="cli-trained")))
    submitted = fabrique("train", "submit", str(spec), *target, timeout=120)
    assert submitted.returncode == 0, submitted.stderr + submitted.stdout
    assert "registered:     cli-trained:1" in submitted.stdout
    assert "auc" in submitted.stdout and "baseline" in submitted.stdout
    assert "training" in submitted.stderr and "epoch 8/8" in submitted.stderr  # The progress.
    run_id = re.search(r"submitted run (\S+)", submitted.stdout).group(1)

    shown = fabrique("train", "show", run_id, *target)
    assert shown.returncode == 0 and "succeeded" in shown.stdout
    assert "building_dataset" in shown.stdout  # The time spent in each state.
    listed = fabrique("train", "list", "--model", "cli-trained", *target)
    assert run_id in listed.stdout and "cli-trained:1" in listed.stdout
    cancelled = fabrique("train", "cancel", run_id, *target)
    assert cancelled.returncode == 0 and "succeeded" in cancelled.stdout
    valid = fabrique("train", "submit", str(spec), "--validate_only", *target)
    assert valid.returncode == 0 and "the spec is valid" in valid.stdout

    bad = tmp_path / "bad.json"
    bad.write_text('{"model_name": 3')
    assert fabrique("train", "submit", str(bad), *target).returncode == 2
    missing = fabrique("train", "show", "no-such-run", *target)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
    assert fabrique("train", "--help").returncode == 0


def test_runs_queued_at_a_stop_stay_queued_through_a_failed_start(clients, labelled, running,
                                                                  tmp_path):
    """A trainer of its own (with the local authority's trainer certificate, so the feature store
    and registry know it) over the running feature store and registry: stopped (SIGTERM) with a
    long run in progress and a short one queued, then started on a port already taken (it exits
    1, having run nothing), then started for real: the short run was kept queued, and runs."""
    import json
    import signal
    import socket
    import subprocess
    from conftest import BIN_DIR
    import fabrique as client
    from fabrique.v1 import trainer_pb2 as t, trainer_pb2_grpc
    data_dir = tmp_path / "trainer"
    auth = running.auth_dir

    def start(port, log):
        return subprocess.Popen(
            [str(BIN_DIR / "fabrique-trainer"), f"--data_dir={data_dir}",
             "--listen_host=127.0.0.1", f"--port={port}", "--metrics_port=0",
             f"--tls_cert={auth / 'trainer.crt'}", f"--tls_key={auth / 'trainer.key'}",
             f"--tls_client_ca={auth / 'ca.crt'}", f"--jwks={auth / 'jwks.json'}",
             "--token_issuer=fabrique-local", f"--policy={auth / 'policy.csv'}",
             f"--features_target={running.endpoints['features']['grpc']}",
             f"--registry_target={running.endpoints['registry']['grpc']}"],
            stdout=log, stderr=subprocess.STDOUT)

    def serve(name):
        """Starts the trainer on a free port; returns the process, a stub and its channel."""
        log_path = tmp_path / name
        process = start(0, log_path.open("w"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            for line in log_path.read_text().splitlines():
                if '"server_started"' in line:
                    channel = client.open_channel(
                        "trainer", target=f"127.0.0.1:{json.loads(line)['grpc_port']}",
                        ca=auth / "ca.crt", token=running.token("dana", GROUPS))
                    return process, trainer_pb2_grpc.TrainerStub(channel), channel
            time.sleep(0.05)
        raise AssertionError(f"the trainer did not start: {log_path.read_text()}")

    first, trainer, channel = serve("first.log")
    long = trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec(
        labelled, epochs=100000, model_name="stopped-by-a-stop")), timeout=30)
    short = trainer.SubmitRun(t.SubmitRunRequest(spec=run_spec(
        labelled, model_name="kept-queued")), timeout=30)
    await_state(trainer, long.run_id, t.RUN_STATE_TRAINING)
    channel.close()
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        failed_log = tmp_path / "failed.log"
        failed = start(taken.getsockname()[1], failed_log.open("w"))
        assert failed.wait(timeout=60) == 1
    assert "is the port in use?" in failed_log.read_text()

    last, trainer, channel = serve("last.log")
    try:
        stopped = trainer.GetRun(t.GetRunRequest(run_id=long.run_id), timeout=5)
        assert stopped.state == t.RUN_STATE_FAILED
        assert stopped.failure_reason.startswith("the trainer was stopped while training")
        final = watch_to_end(trainer, short.run_id)[-1].final_run
        assert final.state == t.RUN_STATE_SUCCEEDED, final.failure_reason
        states = [change.to_state for change in final.history]
        assert states[:2] == [t.RUN_STATE_QUEUED, t.RUN_STATE_BUILDING_DATASET]
    finally:
        channel.close()
        last.send_signal(signal.SIGTERM)
        assert last.wait(timeout=60) == 0
