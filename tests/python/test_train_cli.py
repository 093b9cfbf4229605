"""`fabrique train` as a data scientist drives it: submit a spec and follow the run, show it,
and cancel runs, including one that already ended, which says how it ended instead of
seeming to cancel it."""

import json
import re

import pytest

from conftest import fabrique
from test_cli import token

ROWS = 300


@pytest.fixture(scope="module")
def target(running):
    return ["--data_dir", str(running.data_dir)]


@pytest.fixture(scope="module")
def spec(target, tmp_path_factory):
    """A feature group of ROWS customers loaded from CSV, and a spec training on it with inline
    labels an hour after each row (1 when x > 0)."""
    work = tmp_path_factory.mktemp("train-cli")
    (work / "defs.json").write_text(json.dumps({
        "entities": [{"name": "tcli_customer", "join_key": "customer_id", "owner_squad": "risk"}],
        "feature_groups": [{"name": "tcli_signals", "entity": "tcli_customer",
                            "owner_squad": "risk",
                            "features": [{"name": "x", "type": "FEATURE_TYPE_DOUBLE"}]}]}))
    assert fabrique("features", "apply", *target, str(work / "defs.json")).returncode == 0
    base = 1_700_000_000_000_000
    xs = [((i * 37) % 101 - 50) / 10 for i in range(ROWS)]
    (work / "rows.csv").write_text("customer_id,event_time,x\n" + "".join(
        f"t{i},{base + i},{x}\n" for i, x in enumerate(xs)))
    ingest = fabrique("features", "ingest", "--group", "tcli_signals", *target,
                      str(work / "rows.csv"))
    assert ingest.returncode == 0, ingest.stderr
    spec = {
        "model_name": "tcli-model", "use_case_id": "uc-tcli",
        "features": [{"group": "tcli_signals", "feature": "x"}],
        "label": {"events": {
            "entity_keys": [{"entity": "tcli_customer", "keys": [f"t{i}" for i in range(ROWS)]}],
            "event_time_unix_micros": [base + 3_600_000_000 + i for i in range(ROWS)],
            "labels": {"int64_values": {"values": [int(x > 0) for x in xs]}}}},
        "task": "TASK_BINARY_CLASSIFICATION", "family": {"mlp": {"hidden_sizes": [8]}},
        "optimizer": {"learning_rate": 0.05}, "epochs": 3, "batch_size": 64, "threads": 1,
        "split": {"random": {"validation_fraction": 0.2, "seed": 1}}, "seed": 3}
    path = work / "spec.json"
    path.write_text(json.dumps(spec))
    # The same with so many epochs that it is still training when the test cancels it.
    (work / "long.json").write_text(json.dumps({**spec, "epochs": 1_000_000}))
    return str(path)


@pytest.fixture(scope="module")
def dana(running):
    """Calls as dana, a data scientist of risk: the only squad she may train in."""
    return ["--token", token(running.data_dir, "dana", "risk:data-scientist")]


def submitted_run(stdout):
    return re.search(r"^submitted run (\S+)$", stdout, re.MULTILINE).group(1)


def test_cancelling_a_run_that_succeeded_says_how_it_ended(target, spec, dana):
    submit = fabrique("train", "submit", spec, *target, *dana, timeout=180)
    assert submit.returncode == 0, submit.stdout + submit.stderr
    run = submitted_run(submit.stdout)
    assert re.search(r"^registered: +tcli-model:\d+$", submit.stdout, re.MULTILINE)

    # Cancelling is idempotent (exit 0), and says the run ended otherwise.
    cancel = fabrique("train", "cancel", run, *target, "--reason", "too late")
    assert cancel.returncode == 0, cancel.stderr
    assert cancel.stdout == f"run {run} already succeeded: nothing to cancel\n"
    assert "cancelling" not in cancel.stdout + cancel.stderr
    shown = fabrique("train", "show", run, *target)
    assert shown.returncode == 0 and re.search(r"^state: +succeeded$", shown.stdout, re.MULTILINE)


def test_the_squad_a_run_trains_for(target, spec):
    # The local user is platform-admin in every squad: which one a run is for must be said.
    unsaid = fabrique("train", "submit", spec, "--nowatch", *target)
    assert unsaid.returncode == 1
    assert "INVALID_ARGUMENT" in unsaid.stderr and "--squad" in unsaid.stderr
    said = fabrique("train", "submit", spec, "--nowatch", "--squad", "risk", *target)
    assert said.returncode == 0, said.stderr
    run = submitted_run(said.stdout)
    watched = fabrique("train", "watch", run, *target, timeout=180)
    assert watched.returncode == 0, watched.stdout + watched.stderr


def test_cancelling_a_run_before_it_ends_exits_0(target, spec):
    def submit(path):
        result = fabrique("train", "submit", path, "--nowatch", "--squad", "risk", *target)
        assert result.returncode == 0, result.stderr
        return submitted_run(result.stdout)

    # One worker runs the runs in order: while the long one trains, the next one waits.
    long_run = submit(spec.replace("spec.json", "long.json"))
    queued = submit(spec)
    cancel = fabrique("train", "cancel", queued, *target, "--reason", "wrong features")
    assert cancel.returncode == 0, cancel.stderr
    assert cancel.stdout == f"run {queued}: cancelled\n"

    cancel = fabrique("train", "cancel", long_run, *target)
    assert cancel.returncode == 0, cancel.stderr
    # Queued still, it is cancelled at once; picked up, it stops within one batch.
    assert re.fullmatch(rf"run {long_run}: (cancelled|[a-z_]+, cancelling: it stops within one "
                        r"batch)\n", cancel.stdout), cancel.stdout
    watched = fabrique("train", "watch", long_run, *target, timeout=180)
    assert watched.returncode == 1  # A cancelled run did not succeed.
    assert re.search(r"^state: +cancelled$", watched.stdout, re.MULTILINE), watched.stdout
    again = fabrique("train", "cancel", long_run, *target)
    assert again.returncode == 0 and again.stdout == f"run {long_run}: cancelled\n"


def test_unknown_run_is_a_refusal_not_a_usage_error(target):
    result = fabrique("train", "cancel", "no-such-run", *target)
    assert result.returncode == 1 and "NOT_FOUND" in result.stderr
