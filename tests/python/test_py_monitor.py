"""`fab.monitor` against a running `fabrique up`, on one model trained, served and predicted
(the inference server logs the predictions to the monitor): outcomes sent from a DataFrame by
prediction id and by entity and time, the drift of the model's feature as a DataFrame, the report
page written to a file; and the DataFrames refused before sending, naming the column (missing,
wrong type, missing values), and an unknown model."""

import datetime

import pandas
import pytest

import py_factory
from fabrique.errors import InvalidInput, NotFound

PREFIX = "pymon"
MODEL = "pymon-churn"
# The client on the module's `fabrique up` (a fixture).
fab = py_factory.fab


@pytest.fixture(scope="module")
def predictions(fab, running, tmp_path_factory):
    """MODEL in production, and a DataFrame of 40 predictions logged to the monitor."""
    _, keys, xs = py_factory.serve(fab, running, tmp_path_factory.mktemp(PREFIX), PREFIX,
                                   MODEL, epochs=2)
    frame = fab.predict(MODEL, keys[:40])
    frame["label"] = [int(x > 0) for x in xs[:40]]
    return frame


def test_outcomes_by_prediction_id(fab, predictions):
    logged = fab.monitor.log_outcomes(predictions[["prediction_id", "label"]])
    assert logged.accepted == 40 and logged.rejected == 0, logged
    assert logged.matched + logged.pending == 40
    again = fab.monitor.log_outcomes(predictions[["prediction_id", "label"]])
    assert again.duplicates + again.accepted == 40


def test_outcomes_by_entity_and_time(fab, predictions):
    now = datetime.datetime.now(datetime.timezone.utc)
    frame = pandas.DataFrame({"customer": list(predictions.entity[:5]),
                              "event_time": pandas.to_datetime([now] * 5, utc=True),
                              "churned": [True, False, True, False, True]})
    logged = fab.monitor.log_outcomes(frame, model=MODEL, entity="customer", label="churned")
    assert logged.accepted + logged.rejected == 5


def test_bad_frames_are_refused_naming_the_column(fab, predictions):
    def refused(frame, **kwargs):
        with pytest.raises(InvalidInput) as error:
            fab.monitor.log_outcomes(frame, **kwargs)
        return error.value

    assert refused(predictions[["prediction_id"]]).column == "label"
    assert refused(predictions[["label"]]).column == "prediction_id"
    assert refused(predictions[["label"]], entity="entity").column == "model"
    assert refused(predictions[["entity", "label"]], model=MODEL,
                   entity="entity").column == "event_time"
    wrong = predictions[["prediction_id"]].assign(label=[{"a": 1}] * len(predictions))
    assert refused(wrong).column == "label"
    holes = predictions[["prediction_id"]].assign(label=[1.0] * 39 + [float("nan")])
    error = refused(holes)
    assert error.column == "label" and "row 39" in str(error)
    bad_ids = predictions[["label"]].assign(prediction_id=range(len(predictions)))
    assert refused(bad_ids).column == "prediction_id"
    assert refused(predictions.iloc[:0]).column is None
    times = pandas.DataFrame({"entity": ["a"], "event_time": ["yesterday"], "label": [1]})
    assert refused(times, model=MODEL, entity="entity").column == "event_time"


def test_drift_is_a_frame_per_feature(fab, predictions):
    drift = fab.monitor.drift(MODEL)
    assert list(drift.columns)[:4] == ["name", "kind", "feature", "status"]
    features = drift[drift.kind == "feature"]
    assert list(features.feature) == [f"{PREFIX}_signals:x"]
    assert features.status.iloc[0] in ("no_drift", "drifted", "not_enough_data", "no_reference")
    assert drift.attrs["report"].model_version.model == MODEL


def test_report_writes_a_self_contained_page(fab, predictions, tmp_path):
    path = fab.monitor.report(MODEL, tmp_path / "report.html")
    page = path.read_text()
    assert path == tmp_path / "report.html"
    assert page.startswith("<!DOCTYPE html>") and MODEL in page
    assert "<script" not in page and "http" not in page
    assert "Drift" in page and "Performance" in page and "x" in page
    with pytest.raises(InvalidInput):
        fab.monitor.report(MODEL, tmp_path / "never.html", hours=0)
    assert not (tmp_path / "never.html").exists()


def test_an_unknown_model_is_not_found(fab, predictions, tmp_path):
    with pytest.raises(NotFound) as error:
        fab.monitor.drift("pymon-nothing")
    assert error.value.code_name == "NOT_FOUND"
    with pytest.raises(NotFound):
        fab.monitor.report("pymon-nothing", tmp_path / "nothing.html")
    assert not (tmp_path / "nothing.html").exists()
