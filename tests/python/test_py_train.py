"""`fab.train` against a running `fabrique up`: a run submitted and followed to its registered
version, its events watched, listed and cancelled; a bar drawn only where someone watches; and
the refusals: a spec that cannot be read (before sending), the squad unsaid, an unknown run."""

import io
import json

import pandas
import pytest

import py_factory
from fabrique import _progress
from fabrique.errors import InvalidArgument, InvalidInput, NotFound
from fabrique.train import RunFailed, state_of

PREFIX = "pytrain"
MODEL = "pytrain-model"
# The client on the module's `fabrique up` (a fixture).
fab = py_factory.fab


@pytest.fixture(scope="module")
def spec(running, tmp_path_factory):
    keys, xs = py_factory.load_features(running, tmp_path_factory.mktemp(PREFIX), PREFIX)
    return py_factory.run_spec(PREFIX, MODEL, keys, xs)


@pytest.fixture(scope="module")
def run(fab, spec):
    return fab.train.submit(spec, squad="risk", progress=False)


def test_submit_follows_the_run_to_its_registered_version(fab, run):
    assert state_of(run) == "succeeded"
    assert run.registered_version.model == MODEL and run.registered_version.version >= 1
    assert run.squad == "risk" and run.split_counts.train_rows > 0
    assert fab.train.get(run.run_id).state == run.state


def test_watch_replays_the_events_to_the_final_run(fab, run):
    events = list(fab.train.watch(run.run_id))
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[-1] == "final_run" and events[-1].final_run.run_id == run.run_id
    assert "state_change" in kinds and "progress" in kinds
    assert [event.sequence for event in events] == sorted(event.sequence for event in events)


def test_list_is_a_frame_of_runs(fab, run):
    runs = fab.train.list(model=MODEL)
    assert list(runs.columns)[:5] == ["run_id", "model", "squad", "state", "registered_version"]
    row = runs[runs.run_id == run.run_id].iloc[0]
    assert row.state == "succeeded" and row.registered_version == run.registered_version.version
    assert fab.train.list(model=MODEL, state="failed").empty
    with pytest.raises(InvalidInput) as error:
        fab.train.list(state="sleeping")
    assert error.value.column == "state"


def test_cancelling_an_ended_run_returns_it_as_it_ended(fab, run):
    assert state_of(fab.train.cancel(run.run_id, "too late")) == "succeeded"


def test_a_cancelled_run_raises_run_failed_when_waited_for(fab, spec):
    long_run = fab.train.submit({**spec, "epochs": 1_000_000}, squad="risk", watch=False)
    assert state_of(long_run) == "queued"
    fab.train.cancel(long_run.run_id, "enough")
    with pytest.raises(RunFailed) as error:
        fab.train.wait(long_run.run_id, progress=False)
    assert state_of(error.value.run) == "cancelled"
    assert fab.train.wait(long_run.run_id, progress=False, check=False).run_id == long_run.run_id


def test_the_squad_must_be_said_by_a_member_of_several(fab, spec):
    with pytest.raises(InvalidArgument) as error:
        fab.train.submit(spec, watch=False)
    assert error.value.code_name == "INVALID_ARGUMENT" and "squad" in error.value.message


def test_validate_only_queues_nothing(fab, spec):
    before = len(fab.train.list(model=MODEL))
    checked = fab.train.submit(spec, squad="risk", validate_only=True)
    assert checked.spec.model_name == MODEL
    assert len(fab.train.list(model=MODEL)) == before


def test_a_bad_spec_is_refused_before_sending(fab, spec, tmp_path):
    with pytest.raises(InvalidInput, match="no_such_field"):
        fab.train.submit({**spec, "no_such_field": 1}, squad="risk")
    with pytest.raises(InvalidInput) as error:
        fab.train.submit({**spec, "model_name": ""}, squad="risk")
    assert error.value.column == "model_name"
    with pytest.raises(InvalidInput, match="cannot read"):
        fab.train.submit(tmp_path / "missing.json", squad="risk")
    (tmp_path / "spec.json").write_text(json.dumps({**spec, "epochs": 1}))
    checked = fab.train.submit(tmp_path / "spec.json", squad="risk", validate_only=True)
    assert checked.spec.epochs == 1


def test_an_unknown_run_is_not_found(fab):
    with pytest.raises(NotFound) as error:
        fab.train.get("no-such-run")
    assert "no-such-run" in error.value.message
    with pytest.raises(NotFound):
        list(fab.train.watch("no-such-run"))


def test_the_bar_draws_only_where_someone_watches(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    piped, terminal = io.StringIO(), Terminal()
    for stream in (piped, terminal):
        bar = _progress.Progress(stream=stream)
        bar.update("epoch 1/2", 3, 10, "loss 0.5")
        bar.line("training")
        bar.close()
    assert piped.getvalue() == ""
    assert "epoch 1/2 [#######-----------------] 3/10  loss 0.5" in terminal.getvalue()
    assert "training\n" in terminal.getvalue()
    forced = io.StringIO()
    _progress.Progress(True, stream=forced).update("x", 1, 2)
    assert forced.getvalue()
    monkeypatch.setitem(__import__("sys").modules, "ipykernel", object())
    assert _progress.watched(io.StringIO())


def test_labels_as_a_dataframe(fab, spec):
    events = spec["label"]["events"]
    labels = pandas.DataFrame({"customer_id": events["entity_keys"][0]["keys"],
                               "event_time": events["event_time_unix_micros"],
                               "label": events["labels"]["int64_values"]["values"]})
    without = {key: value for key, value in spec.items() if key != "label"}
    checked = fab.train.submit(without, labels=labels, squad="risk", validate_only=True)
    assert list(checked.spec.label.events.labels.int64_values.values) == list(labels.label)
    assert list(checked.spec.label.events.entity_keys[0].keys) == list(labels.customer_id)

    def refused(frame):
        with pytest.raises(InvalidInput) as error:
            fab.train.submit(without, labels=frame, squad="risk", validate_only=True)
        return error.value.column

    assert refused(labels.drop(columns="label")) == "label"
    assert refused(labels.drop(columns="event_time")) == "event_time"
    assert refused(labels.assign(label=[None] + list(labels.label[1:]))) == "label"
    assert refused(labels.assign(event_time="soon")) == "event_time"
    assert refused(labels.iloc[:0]) == "labels"


def test_the_bar_follows_a_replayed_run(fab, run, capsys):
    fab.train.wait(run.run_id, progress=True)
    drawn = capsys.readouterr().err
    assert "epoch 3/3" in drawn and "succeeded" in drawn
