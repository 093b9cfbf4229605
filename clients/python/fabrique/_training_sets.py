"""Training sets on the feature store's BuildTrainingSet stream: the spec as a squad writes it,
the labels checked and sent in batches, the rows read back into one DataFrame."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from google.protobuf import json_format

from fabrique import _columns
from fabrique._progress import Progress
from fabrique.errors import InvalidInput
from fabrique.v1 import common_pb2 as c, features_pb2 as f


def label_feature_type(column: str, series: pd.Series) -> int:
    """The feature type a label column is sent as, from its dtype."""
    dtype = series.dtype
    if series.isna().any():
        raise InvalidInput(f"column {column!r} holds the labels and misses some", column)
    if pd.api.types.is_bool_dtype(dtype):
        return c.FEATURE_TYPE_BOOL
    if pd.api.types.is_integer_dtype(dtype):
        return c.FEATURE_TYPE_INT64
    if pd.api.types.is_float_dtype(dtype):
        return c.FEATURE_TYPE_FLOAT if dtype == np.float32 else c.FEATURE_TYPE_DOUBLE
    _columns.check_values(column, series, c.FEATURE_TYPE_STRING)
    return c.FEATURE_TYPE_STRING


def training_spec(spec: Any) -> f.TrainingSetSpec:
    """A TrainingSetSpec from a message, a dict in the proto JSON mapping (whose `features` may
    also be "group:feature" texts), or a list of features."""
    if isinstance(spec, f.TrainingSetSpec):
        message = f.TrainingSetSpec()
        message.CopyFrom(spec)
        return message
    if isinstance(spec, Mapping):
        spec = dict(spec)
        features = spec.pop("features", [])
        label = spec.get("label")
        if isinstance(label, str):
            label_ref = _columns.feature_ref(label, None)
            spec["label"] = {"feature": json_format.MessageToDict(label_ref)}
        span = spec.get("time_range")
        if isinstance(span, (tuple, list)):  # (start, end): times pandas reads, or None.
            if len(span) != 2:
                raise InvalidInput("time_range is (start, end), either of them None for open")
            spec["time_range"] = {
                name: pd.Timestamp(_columns.time_micros(value), unit="us").strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ")
                for name, value in zip(("start_time", "end_time"), span) if value is not None}
        try:
            message = json_format.ParseDict(spec, f.TrainingSetSpec())
        except json_format.ParseError as error:
            raise InvalidInput(f"training set spec: {error}") from None
        for feature in features:
            if isinstance(feature, Mapping):
                message.features.add().CopyFrom(json_format.ParseDict(feature, c.FeatureRef()))
            else:
                message.features.add().CopyFrom(_columns.feature_ref(feature, None))
        return message
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return f.TrainingSetSpec(features=[_columns.feature_ref(name, None) for name in spec])
    raise InvalidInput("a training set spec is a list of \"group:feature\", a dict in the proto "
                       f"JSON mapping of TrainingSetSpec, or a TrainingSetSpec; not {spec!r}")


def check_labels(labels: pd.DataFrame, message: f.TrainingSetSpec, entities: Mapping[str, str],
                 time_column: str,
                 label_column: str) -> Tuple[pd.DataFrame, Dict[str, str], int, np.ndarray]:
    """Checks the label events before anything is sent. Returns the events in the spec's time
    range, the key column of each entity, the label's feature type and the events' times (Unix
    microseconds). Raises InvalidInput naming the column at fault."""
    labels = _columns.check_frame(labels, "the labels frame")
    key_columns = {}
    for entity, join_key in entities.items():
        column = entity if entity in labels.columns and join_key not in labels.columns \
            else join_key
        _columns.require_columns(labels, {column: f"the key of entity {entity!r}"})
        key_columns[entity] = column
    _columns.require_columns(labels, {time_column: "the label's event time",
                                      label_column: "the label"})
    label_type = label_feature_type(label_column, labels[label_column])
    times = _columns.event_times_micros(time_column, labels[time_column])
    # Events outside the time range are dropped here rather than by the server, so that
    # the rows' label indexes stay positions in `labels`.
    span = message.time_range
    keep = np.ones(len(labels), dtype=bool)
    if span.HasField("start_time"):
        keep &= times >= span.start_time.ToMicroseconds()
    if span.HasField("end_time"):
        keep &= times < span.end_time.ToMicroseconds()
    if not keep.all():
        labels, times = labels[keep], times[keep]
    for entity, column in key_columns.items():
        _columns.keys_as_text(column, labels[column])  # Refuses missing or odd keys now.
    return labels, key_columns, label_type, times


def label_requests(message: f.TrainingSetSpec, labels: pd.DataFrame,
                   key_columns: Mapping[str, str], label_type: int, times: np.ndarray,
                   label_column: str, batch_rows: int,
                   bar: Progress) -> Iterator[f.BuildTrainingSetRequest]:
    """Yields the stream's messages: the spec, then the label events `batch_rows` at a time,
    each built only when the stream asks for it."""
    yield f.BuildTrainingSetRequest(spec=message)
    for start in range(0, len(labels), batch_rows):
        chunk = labels.iloc[start:start + batch_rows]
        events = c.LabelEventBatch(
            entity_keys=[c.EntityKeys(entity=entity,
                                      keys=_columns.keys_as_text(column, chunk[column]))
                         for entity, column in key_columns.items()],
            event_time_unix_micros=times[start:start + batch_rows].tolist(),
            labels=_columns.to_value_column(chunk[label_column], label_type))
        yield f.BuildTrainingSetRequest(label_events=events)
        bar.update("labels sent", start + len(chunk), len(labels), "events")


def read_training_set(responses: Iterator[f.BuildTrainingSetResponse],
                      columns: "TrainingSetColumns",
                      kept_index: Optional[pd.Index]) -> pd.DataFrame:
    """Reads the stream's header, row chunks and summary into one DataFrame in label order,
    indexed by `kept_index` (the labels sent) or 0..n-1; attrs["dataset"] holds the summary."""
    header = f.TrainingSetHeader()
    summary = f.Dataset()
    chunks: List[pd.DataFrame] = []
    for response in responses:
        part = response.WhichOneof("part")
        if part == "header":
            header = response.header
        elif part == "summary":
            summary = response.summary
        elif part == "rows":
            chunks.append(columns.frame(response.rows, header))
    if chunks:
        frame = pd.concat(chunks).sort_index(kind="stable")
    else:
        frame = columns.frame(f.TrainingSetRows(), header)
    if kept_index is not None:
        frame.index = kept_index[frame.index.to_numpy()]
    else:
        frame = frame.reset_index(drop=True)
    frame.attrs["dataset"] = summary
    return frame


@dataclasses.dataclass(frozen=True)
class TrainingSetColumns:
    """How a training set's columns are named: entity -> join key, the time and label columns,
    and whether features are named "group:feature"."""
    join_keys: Mapping[str, str]
    time: str
    label: str
    full_names: bool

    def frame(self, rows: f.TrainingSetRows, header: f.TrainingSetHeader) -> pd.DataFrame:
        """One chunk of a training set as a DataFrame indexed by the label event's index."""
        count = len(rows.event_time_unix_micros)
        data: Dict[str, Any] = {}
        ordered = list(self.join_keys.values())
        for i, keys in enumerate(rows.entity_keys):
            name = self.join_keys.get(keys.entity) or (ordered[i] if i < len(ordered)
                                                       else keys.entity)
            data[name] = np.asarray(list(keys.keys), dtype=object)
        if not rows.entity_keys:
            for name in ordered:
                data[name] = np.asarray([], dtype=object)
        data[self.time] = _columns.times_from_micros(rows.event_time_unix_micros)
        label_type = header.label_type or _columns.value_column_type(rows.labels) or \
            c.FEATURE_TYPE_DOUBLE
        data[self.label] = _columns.from_value_column(rows.labels, label_type, count)
        refs = [v.ref for v in header.features]
        values = list(rows.features) or [c.FeatureColumn()] * len(refs)
        names = _columns.column_names(refs, self.full_names)
        for name, feature, column in zip(names, header.features, values):
            data[name] = _columns.from_value_column(column.values, feature.type, count)
        return pd.DataFrame(data, index=np.asarray(rows.label_event_index, dtype=np.int64))
