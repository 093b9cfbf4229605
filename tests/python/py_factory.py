"""A small factory for the Python client's tests: a feature group of customers with one numeric
signal, loaded with the CLI, a run spec training a binary classifier on it in a few seconds, and
waiting until the inference server serves a version."""

import json
import time

import pytest

from conftest import client, fabrique

ROWS = 300
BASE_MICROS = 1_700_000_000_000_000


def signals(prefix, rows=ROWS):
    """Customer keys and their signal x, spread over [-5, 5]."""
    keys = [f"{prefix}{i}" for i in range(rows)]
    xs = [((i * 37) % 101 - 50) / 10 for i in range(rows)]
    return keys, xs


def load_features(running, work, prefix, rows=ROWS):
    """Entity {prefix}_customer and group {prefix}_signals (feature x), owned by risk, with
    `rows` customers ingested; returns (keys, xs)."""
    (work / "defs.json").write_text(json.dumps({
        "entities": [{"name": f"{prefix}_customer", "join_key": "customer_id",
                      "owner_squad": "risk"}],
        "feature_groups": [{"name": f"{prefix}_signals", "entity": f"{prefix}_customer",
                            "owner_squad": "risk",
                            "features": [{"name": "x", "type": "FEATURE_TYPE_DOUBLE"}]}]}))
    target = ["--data_dir", str(running.data_dir)]
    applied = fabrique("features", "apply", *target, str(work / "defs.json"))
    assert applied.returncode == 0, applied.stderr
    keys, xs = signals(prefix, rows)
    (work / "rows.csv").write_text("customer_id,event_time,x\n" + "".join(
        f"{key},{BASE_MICROS + i},{x}\n" for i, (key, x) in enumerate(zip(keys, xs))))
    ingested = fabrique("features", "ingest", "--group", f"{prefix}_signals", *target,
                        str(work / "rows.csv"))
    assert ingested.returncode == 0, ingested.stderr
    return keys, xs


def run_spec(prefix, model, keys, xs, epochs=3):
    """A RunSpec dict (protobuf JSON) training `model` on x with labels an hour after each row
    (1 when x > 0)."""
    return {
        "model_name": model, "use_case_id": f"uc-{prefix}",
        "features": [{"group": f"{prefix}_signals", "feature": "x"}],
        "label": {"events": {
            "entity_keys": [{"entity": f"{prefix}_customer", "keys": keys}],
            "event_time_unix_micros": [BASE_MICROS + 3_600_000_000 + i
                                       for i in range(len(keys))],
            "labels": {"int64_values": {"values": [int(x > 0) for x in xs]}}}},
        "task": "TASK_BINARY_CLASSIFICATION", "family": {"mlp": {"hidden_sizes": [8]}},
        "optimizer": {"learning_rate": 0.05}, "epochs": epochs, "batch_size": 64, "threads": 1,
        "split": {"random": {"validation_fraction": 0.2, "seed": 1}}, "seed": 3}


def connect(running):
    """The Python client on the running factory, as its local user (platform-admin)."""
    return client.connect(data_dir=running.data_dir)


@pytest.fixture(scope="module")
def fab(stubs, running):
    """The Python client on the module's `fabrique up`; tests import this fixture."""
    with connect(running) as fab:
        yield fab


def train(fab, running, work, prefix, model, epochs=3):
    """Loads the features and trains `model` on them for squad risk; returns (version, keys,
    xs)."""
    keys, xs = load_features(running, work, prefix)
    run = fab.train.submit(run_spec(prefix, model, keys, xs, epochs=epochs), squad="risk",
                           progress=False)
    return run.registered_version.version, keys, xs


def serve(fab, running, work, prefix, model, epochs=3):
    """`train`, then the version in production and answering; returns (version, keys, xs)."""
    version, keys, xs = train(fab, running, work, prefix, model, epochs)
    fab.models.set_alias(model, "production", version)
    wait_served(fab, model, version, keys[0])
    return version, keys, xs


def wait_served(fab, model, version, key, timeout=120):
    """Waits until `version` of `model` answers a prediction for `key`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fab.predict(model, [key], version=version, log=False)
        except (client.errors.NotFound, client.errors.FailedPrecondition,
                client.errors.Unavailable):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
