"""The registry's monitor comparison gate through the real binaries of a `fabrique up`: a policy
set from JSON with `fabrique models policy --set`, a promotion that waits while the monitor has
too few labelled predictions, one the monitor finds worse (refused with its verdict), and one it
finds not worse (the alias moves). The registry asks the monitor as its own service identity."""

import json
import pathlib
import re
import time

import pytest

from conftest import fabrique
from test_cli import token

MODEL = "canary-price"


@pytest.fixture(scope="module")
def people(running):
    return {"scientist": ["--token", token(running.data_dir, "dana", "risk:data-scientist")],
            "reviewer": ["--token", token(running.data_dir, "rita", "risk:design-authority")]}


def models(running, *args):
    return fabrique("models", *args, "--data_dir", str(running.data_dir), timeout=60)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def register(running, people, tmp_path, n):
    path = tmp_path / f"v{n}.pt"
    path.write_bytes(b"model %d" % n)
    out = ok(models(running, "upload", str(path), "--register", MODEL, "--metric", "rmse=1.0",
                    *people["scientist"]))
    return int(re.search(rf"registered {MODEL}:(\d+)", out).group(1))


def log_traffic(stubs, connect, version, error, count=10):
    """`count` predictions of `version`, ten minutes old, each joined to an outcome of 10 that
    the model missed by +-`error` (an rmse of `error`)."""
    from fabrique.v1 import common_pb2, monitor_pb2, monitor_pb2_grpc
    stub = monitor_pb2_grpc.MonitorStub(connect("monitor"))
    when = int(time.time()) - 600
    predictions = monitor_pb2.LogPredictionsRequest(batch_id=f"{MODEL}-p{version}")
    outcomes = monitor_pb2.LogOutcomesRequest(batch_id=f"{MODEL}-o{version}")
    for i in range(count):
        record = predictions.predictions.add()
        record.prediction_id = f"{MODEL}-{version}-{i}"
        record.model_version.model = MODEL
        record.model_version.version = version
        record.time.seconds = when + i
        record.outputs.add(name="prediction", values=[10 + (error if i % 2 else -error)])
        outcome = outcomes.outcomes.add()
        outcome.prediction_id = record.prediction_id
        outcome.label.double_value = 10
        outcome.observe_time.seconds = when + 60
    logged = stub.LogPredictions(iter([predictions]), timeout=30)
    assert logged.accepted == count, logged
    joined = stub.LogOutcomes(iter([outcomes]), timeout=30)
    assert joined.matched == count, joined


def test_promotion_waits_for_the_monitor_then_follows_its_verdict(running, people, stubs,
                                                                   connect, tmp_path):
    ok(models(running, "create", MODEL, "--squad", "risk", "--use-case", "uc-price", "--task",
              "regression", *people["scientist"]))
    assert [register(running, people, tmp_path, n) for n in (1, 2, 3)] == [1, 2, 3]
    ok(models(running, "alias", MODEL, "production", "1", *people["scientist"]))

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"monitorComparisonGates": [
        {"metric": "rmse", "maxDegradation": 0.1, "minLabelled": 5, "window": "3600s"}]}))
    out = ok(models(running, "policy", MODEL, "production", "--set", str(policy),
                    *people["reviewer"]))
    assert "monitor       rmse on live traffic no worse than the holder's by more than 0.1" in out

    # No traffic yet: the request waits on the monitor rather than passing or failing.
    waiting = ok(models(running, "promote", MODEL, "2", "--alias", "production",
                        *people["scientist"]))
    assert "state:         pending" in waiting, waiting
    assert re.search(r"PENDING\s+rmse on live traffic .*waiting for labelled predictions: "
                     r"NOT_ENOUGH_DATA", waiting), waiting

    log_traffic(stubs, connect, 1, 1.0)
    log_traffic(stubs, connect, 2, 1.0)
    log_traffic(stubs, connect, 3, 3.0)

    # Version 3 misses by three times as much: refused with the monitor's verdict.
    refused = models(running, "promote", MODEL, "3", "--alias", "production", *people["scientist"])
    assert refused.returncode == 1, refused.stdout
    assert "FAILED_PRECONDITION" in refused.stderr
    assert "WORSE: candidate rmse 3 vs primary rmse 1" in refused.stderr, refused.stderr

    # Version 2 does as well as version 1: promoted at once.
    promoted = ok(models(running, "promote", MODEL, "2", "--alias", "production",
                         *people["scientist"]))
    assert "state:         completed" in promoted, promoted
    assert re.search(r"PASSED\s+rmse on live traffic .*NOT_WORSE", promoted), promoted
    assert re.search(r"production\s+2\s", ok(models(running, "alias", MODEL)))
