"""The feature store through the Python client (fab.features), against a real `fabrique up`: a
data engineer applies definitions and ingests DataFrames, lookups give back what was ingested, a
data scientist's training set is point-in-time correct (checked against pandas' merge_asof), and
bad input is refused before anything is sent, naming the column."""

import json

import numpy as np
import pandas as pd
import pytest

import fabrique
from fabrique import errors

T0 = pd.Timestamp("2026-01-01T00:00:00Z")
HOUR = pd.Timedelta(hours=1)

DEFINITIONS = {
    "entities": [{"name": "shopper", "join_key": "shopper_id", "owner_squad": "retail"}],
    "feature_groups": [{
        "name": "baskets", "entity": "shopper", "owner_squad": "retail",
        "features": [
            {"name": "spend", "type": "FEATURE_TYPE_DOUBLE",
             "expectations": {"min_value": 0}},
            {"name": "items", "type": "FEATURE_TYPE_INT64"},
            {"name": "member", "type": "FEATURE_TYPE_BOOL"},
            {"name": "store", "type": "FEATURE_TYPE_STRING"},
            {"name": "taste", "type": "FEATURE_TYPE_FLOAT_VECTOR", "vector_length": 2},
        ]}],
}


@pytest.fixture(scope="module")
def engineer(stubs, running):
    """The feature store as erin, a data engineer of the retail squad."""
    with fabrique.connect(data_dir=running.data_dir, user="erin",
                          groups=["retail:data-engineer"]) as fab:
        yield fab.features


@pytest.fixture(scope="module")
def scientist(stubs, running):
    """The feature store as sol, a data scientist of the retail squad."""
    with fabrique.connect(data_dir=running.data_dir, user="sol",
                          groups=["retail:data-scientist"]) as fab:
        yield fab.features


@pytest.fixture(scope="module")
def baskets(engineer):
    """The definitions applied and a small history ingested: (history frame, ingest summary)."""
    engineer.apply(DEFINITIONS)
    history = pd.DataFrame({
        "shopper_id": ["s1", "s2", "s1", "s3", "s1", "s2"],
        "event_time": [T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR,
                       T0 + 5 * HOUR],
        "spend": [10.0, 20.5, 12.0, -1.0, 15.25, np.nan],
        "items": pd.array([1, 2, 3, 4, 5, None], dtype="Int64"),
        "member": pd.array([True, False, True, None, False, True], dtype="boolean"),
        "store": ["paris", "lyon", None, "nice", "paris", "lyon"],
        "taste": [np.array([0.5, 1.0]), [1.0, 2.0], None, [0.0, 0.0], [2.0, 0.25], [3.0, 1.0]],
    }, index=[f"r{i}" for i in range(6)])
    summary = engineer.ingest(history, group="baskets", batch_rows=4, progress=False)
    return history, summary


def test_apply_says_what_it_created_updated_or_left(engineer, tmp_path):
    path = tmp_path / "features.json"
    path.write_text(json.dumps({
        "entities": [{"name": "till", "join_key": "till_id", "owner_squad": "retail"}],
        "feature_groups": [{"name": "tills", "entity": "till", "owner_squad": "retail",
                            "features": [{"name": "open", "type": "FEATURE_TYPE_BOOL"}]}]}))
    assert [(a.kind, a.name, a.outcome) for a in engineer.apply(path, dry_run=True)] == \
        [("entity", "till", "would be created"), ("group", "tills", "not checked")]
    first = engineer.apply(path)
    assert [(a.kind, a.name, a.outcome, a.schema_version) for a in first] == \
        [("entity", "till", "created", 0), ("group", "tills", "created", 1)]
    assert not any(a.changed for a in engineer.apply(path))  # Applying again changes nothing.
    grown = json.loads(path.read_text())["feature_groups"][0]
    grown["features"].append({"name": "queue", "type": "FEATURE_TYPE_INT64"})
    (applied,) = engineer.apply([grown])
    assert (applied.outcome, applied.schema_version, applied.added_features) == \
        ("updated", 2, ("queue",))
    assert "tills" in set(engineer.list_groups(owner_squad="retail")["name"])


def test_apply_refuses_what_does_not_parse_before_sending(engineer):
    with pytest.raises(errors.InvalidInput, match=r"feature_groups\[0\]"):
        engineer.apply({"feature_groups": [{"name": "x", "entity": "till", "bogus": 1}]})
    with pytest.raises(errors.InvalidInput, match="unknown key 'groups'"):
        engineer.apply({"groups": []})
    with pytest.raises(errors.FailedPrecondition, match="open"):  # A feature's type changed.
        engineer.apply([{"name": "tills", "entity": "till", "owner_squad": "retail",
                         "features": [{"name": "open", "type": "FEATURE_TYPE_STRING"}]}])


def test_ingest_reports_rejects_by_the_frames_rows(baskets):
    _, summary = baskets
    assert (summary.rows_written, summary.rows_rejected, summary.batches) == (5, 1, 2)
    assert summary.reject_counts == {"BELOW_MIN": 1}
    assert summary.rejects[["row", "feature", "reason"]].values.tolist() == \
        [["r3", "spend", "BELOW_MIN"]]


def test_lookup_returns_the_latest_ingested_values(baskets, scientist):
    frame = scientist.lookup("baskets", ["s1", "s2", "s3", "nobody"], statuses=True)
    assert frame.index.name == "shopper_id" and list(frame.index) == ["s1", "s2", "s3", "nobody"]
    assert frame.loc["s1", "spend"] == 15.25 and frame.loc["s1", "items"] == 5
    assert not frame.loc["s1", "member"] and frame.loc["s1", "store"] == "paris"
    np.testing.assert_array_equal(frame.loc["s1", "taste"], np.array([2.0, 0.25], np.float32))
    # s2's newest row holds nulls for spend and items: null comes back as null.
    assert np.isnan(frame.loc["s2", "spend"]) and frame.loc["s2", "items"] is pd.NA
    assert frame.loc["s2", "store"] == "lyon" and frame.loc["s2", "member"]
    # s3's only row was rejected, and nobody was never ingested.
    assert frame.loc["s3", "spend__status"] == "MISSING" and np.isnan(frame.loc["nobody", "spend"])
    assert frame.loc["nobody", "store"] is None
    assert str(frame["items"].dtype) == "Int64" and str(frame["member"].dtype) == "boolean"


def test_lookup_by_entity_with_full_names_and_event_times(baskets, scientist):
    frame = scientist.lookup("shopper", ["s1"], ["baskets:spend"], full_names=True,
                             event_times=True)
    assert list(frame.columns) == ["baskets:spend", "baskets:spend__event_time"]
    assert frame.loc["s1", "baskets:spend__event_time"] == T0 + 4 * HOUR


def test_history_reads_back_every_stored_row(baskets, engineer):
    history, _ = baskets
    stored = engineer.history("baskets", features=["spend", "store"])
    kept = history.drop(index="r3").sort_values(["shopper_id", "event_time"])
    assert stored["shopper_id"].tolist() == kept["shopper_id"].tolist()
    assert stored["event_time"].tolist() == kept["event_time"].tolist()
    assert stored["store"].tolist() == kept["store"].tolist()
    assert len(engineer.history("baskets", keys=["s1"], start=T0 + HOUR)) == 2


def test_a_training_set_is_point_in_time_correct(baskets, scientist):
    history, _ = baskets
    labels = pd.DataFrame({
        "shopper_id": ["s1", "s2", "s1", "s1", "s3", "s2", "s1"],
        "event_time": [T0 - HOUR, T0 + HOUR, T0 + HOUR, T0 + 2 * HOUR, T0 + 9 * HOUR,
                       T0 + 9 * HOUR, T0 + 4 * HOUR + pd.Timedelta(seconds=1)],
        "churned": [False, True, False, True, True, False, True],
    }, index=[100, 101, 102, 103, 104, 105, 106])
    frame = scientist.training_set(
        {"features": ["baskets:spend", "baskets:store"], "chunk_rows": 2}, labels,
        label_column="churned", dataset_name="churn-demo", label_batch_rows=3, progress=False)

    # What pandas says each label could see: the newest stored row at or before its time.
    stored = history.drop(index="r3").sort_values("event_time")
    expected = pd.merge_asof(labels.reset_index().sort_values("event_time"),
                             stored[["shopper_id", "event_time", "spend", "store"]],
                             on="event_time", by="shopper_id", direction="backward")
    expected = expected.set_index("index").sort_index()
    assert list(frame.index) == list(labels.index)
    assert list(frame.columns) == ["shopper_id", "event_time", "churned", "spend", "store"]
    assert frame["churned"].tolist() == labels["churned"].tolist()
    pd.testing.assert_series_equal(frame["spend"], expected["spend"], check_names=False,
                                   check_index_type=False)
    assert frame["store"].tolist() == expected["store"].where(expected["store"].notna(),
                                                              None).tolist()
    dataset = frame.attrs["dataset"]
    assert dataset.row_count == len(labels) and dataset.name == "churn-demo"
    assert len(dataset.content_sha256) == 64


def test_a_training_set_keeps_only_labels_in_its_time_range(baskets, scientist):
    labels = pd.DataFrame({"shopper": ["s1", "s1", "s2"],
                           "event_time": [T0, T0 + 3 * HOUR, T0 + 6 * HOUR],
                           "label": [1.5, 2.5, 3.5]}, index=["a", "b", "c"])
    frame = scientist.training_set(
        {"features": ["baskets:items"], "time_range": (T0 + HOUR, None)}, labels)
    assert list(frame.index) == ["b", "c"]  # Indexed as the labels it kept.
    assert frame["items"].tolist() == [3, pd.NA] and frame["label"].tolist() == [2.5, 3.5]


def test_bad_frames_are_refused_naming_the_column(baskets, engineer):
    good = pd.DataFrame({"shopper_id": ["s9"], "event_time": [T0], "spend": [1.0]})
    cases = [
        (good.drop(columns="shopper_id"), "shopper_id", "no column 'shopper_id'"),
        (good.drop(columns="event_time"), "event_time", "no column 'event_time'"),
        (good.assign(spend=["1.0"]), "spend", "must hold numbers for DOUBLE"),
        (good.assign(items=[1.5]), "items", "whole numbers"),
        (good.assign(member=[1]), "member", "BOOL"),
        (good.assign(store=[7]), "store", "STRING"),
        (good.assign(taste=[[1.0, "x"]]), "taste", "FLOAT_VECTOR"),
        (good.assign(colour=["red"]), "colour", "not a feature of group 'baskets'"),
        (good.assign(event_time=["yesterday-ish"]), "event_time", "not a time"),
        (good.assign(shopper_id=[None]), "shopper_id", "missing key"),
    ]
    for frame, column, message in cases:
        with pytest.raises(errors.InvalidInput, match=message) as refused:
            engineer.ingest(frame, group="baskets")
        assert refused.value.column == column
    with pytest.raises(errors.InvalidInput, match="no rows"):
        engineer.ingest(good.iloc[:0], group="baskets")
    # Nothing was sent: s9 has no history.
    assert len(engineer.history("baskets", keys=["s9"])) == 0


def test_bad_labels_are_refused_naming_the_column(baskets, scientist):
    labels = pd.DataFrame({"shopper_id": ["s1"], "event_time": [T0], "label": [True]})
    with pytest.raises(errors.InvalidInput) as refused:
        scientist.training_set(["baskets:spend"], labels.drop(columns="label"))
    assert refused.value.column == "label"
    with pytest.raises(errors.InvalidInput) as refused:
        scientist.training_set(["baskets:spend"], labels.drop(columns="shopper_id"))
    assert refused.value.column == "shopper_id"
    with pytest.raises(errors.InvalidInput, match="group:spend"):
        scientist.training_set(["spend"], labels)


def test_unknown_groups_are_not_found(baskets, engineer, scientist):
    frame = pd.DataFrame({"shopper_id": ["s1"], "event_time": [T0], "spend": [1.0]})
    with pytest.raises(errors.NotFound, match="nowhere"):
        engineer.ingest(frame, group="nowhere")
    with pytest.raises(errors.NotFound, match="nowhere"):
        scientist.lookup("nowhere", ["s1"])
    with pytest.raises(errors.NotFound, match="nowhere"):
        scientist.training_set(["nowhere:spend"], frame.assign(label=[1.0]))


def test_another_squad_is_denied(baskets, running):
    with fabrique.connect(data_dir=running.data_dir, user="olga",
                          groups=["payments:data-engineer"]) as outsider:
        frame = pd.DataFrame({"shopper_id": ["s1"], "event_time": [T0], "spend": [99.0]})
        with pytest.raises(errors.PermissionDenied) as denied:
            outsider.features.ingest(frame, group="baskets")
        assert denied.value.code.name == "PERMISSION_DENIED"
        with pytest.raises(errors.PermissionDenied):
            outsider.features.lookup("baskets", ["s1"])


def test_a_training_set_can_take_its_labels_from_a_group(baskets, scientist):
    history, _ = baskets
    frame = scientist.training_set({"features": ["baskets:spend"], "label": "baskets:items"})
    stored = history.drop(index="r3").sort_values(["shopper_id", "event_time"])
    # Each label event sees its own row: features at or before the label's time.
    assert list(frame.columns) == ["shopper_id", "event_time", "items", "spend"]
    assert frame["items"].tolist() == stored["items"].tolist()
    pd.testing.assert_series_equal(frame["spend"], stored["spend"].reset_index(drop=True),
                                   check_names=False)


def test_ingest_draws_progress_only_when_asked(baskets, engineer, capsys):
    frame = pd.DataFrame({"shopper_id": ["s8", "s8"], "event_time": [T0, T0 + HOUR],
                          "spend": [1.0, 2.0]})
    engineer.ingest(frame, group="baskets", batch_rows=1, progress=False)
    assert capsys.readouterr().err == ""
    summary = engineer.ingest(frame, group="baskets", batch_rows=1, progress=True,
                              batch_id_prefix="s8-load")
    assert "ingest baskets [" in capsys.readouterr().err and summary.rows_written == 2
    # The same batch ids again: recognised, written once.
    again = engineer.ingest(frame, group="baskets", batch_rows=1, batch_id_prefix="s8-load")
    assert again.duplicates == 2


@pytest.mark.parametrize("feature_type, values, dtype", [
    ("FEATURE_TYPE_DOUBLE", [1.5, None, -2.0], "float64"),
    ("FEATURE_TYPE_FLOAT", np.array([0.5, np.nan], np.float32), "float32"),
    ("FEATURE_TYPE_INT64", pd.array([2**62, None, -1], dtype="Int64"), "Int64"),
    ("FEATURE_TYPE_BOOL", [True, None, False], "boolean"),
    ("FEATURE_TYPE_STRING", ["é", None, ""], "object"),
    ("FEATURE_TYPE_FLOAT_VECTOR", [[1.0, 2.0], None, np.array([], np.float32)], "object"),
])
def test_values_come_back_as_they_went(feature_type, values, dtype):
    from fabrique import _columns
    from fabrique.v1 import common_pb2 as c
    kind = c.FeatureType.Value(feature_type)
    series = pd.Series(values, dtype=object if dtype == "object" else None)
    _columns.check_values("x", series, kind)
    column = _columns.to_value_column(series, kind)
    back = pd.Series(_columns.from_value_column(column, kind, len(series)))
    assert str(back.dtype) == dtype and list(back.isna()) == list(series.isna())
    for went, came in zip(series, back):
        if pd.api.types.is_scalar(went) and pd.isna(went):
            continue
        if kind == c.FEATURE_TYPE_FLOAT_VECTOR:
            np.testing.assert_array_equal(came, np.asarray(went, np.float32))
        else:
            assert came == went


def test_event_times_are_read_as_utc_microseconds():
    from fabrique import _columns
    expected = [1767225600000000, 1767229200000000]  # 2026-01-01T00:00Z and 01:00Z
    for series in [pd.Series([T0, T0 + HOUR]),
                   pd.Series([T0.tz_localize(None), (T0 + HOUR).tz_localize(None)]),
                   pd.Series(["2026-01-01T00:00:00Z", "2026-01-01T02:00:00+01:00"]),
                   pd.Series(expected)]:
        assert _columns.event_times_micros("t", series).tolist() == expected
