"""The feature store from Python: define, ingest DataFrames, look up, build training sets.

    fab = fabrique.connect(data_dir="fabrique-data")
    fab.features.apply("features.json")                      # entities and feature groups
    fab.features.ingest(payments, group="payments")           # a DataFrame, checked, streamed
    fab.features.lookup("payments", ["c1", "c2"])            # a DataFrame, one row per key
    training = fab.features.training_set(["payments:amount"], labels)   # point in time

Frames going in are checked against the group's schema before anything is sent: a missing key or
event-time column, a column the group does not have, or a column whose values do not fit the
feature's type raises `InvalidInput` naming the column. How values map to pandas types is told in
fabrique._columns.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import pandas as pd

from fabrique import _columns, _training_sets
from fabrique._definitions import Applied, Definitions, read_definitions
from fabrique._progress import Progress
from fabrique.errors import InvalidInput, NotFound
from fabrique.v1 import common_pb2 as c, features_pb2 as f, features_pb2_grpc

if TYPE_CHECKING:
    from fabrique.client import Client

__all__ = ["Applied", "Features", "IngestSummary"]

# Rows per ingest batch, as `fabrique features ingest`: small enough for a smooth progress bar on
# a stream, large enough on a backfill (bulk) for each sorted file to pay for its ingestion.
STREAM_BATCH_ROWS = 5000
BULK_BATCH_ROWS = 100000
# Label events per message on a training-set stream.
LABEL_BATCH_ROWS = 10000
# The deadline of a whole ingest or training-set stream, in seconds.
STREAM_TIMEOUT_S = 3600.0

FeatureNames = Sequence[Union[str, c.FeatureRef]]
Keys = Union[Sequence[Any], Mapping[str, Sequence[Any]]]


@dataclasses.dataclass
class IngestSummary:
    """The outcome of `ingest`.

    Attributes:
      rows_written:  rows stored.
      rows_rejected: rows the feature store refused (its data-quality rules).
      batches:       batches sent.
      duplicates:    batches already ingested under the same ids (re-sent; written once).
      reject_counts: rejected rows by reason, e.g. {"BELOW_MIN": 3}.
      rejects:       the first rejected rows: `row` (the frame's index label), `feature`,
                     `reason`, `message`.
    """
    rows_written: int
    rows_rejected: int
    batches: int
    duplicates: int
    reject_counts: Dict[str, int]
    rejects: pd.DataFrame


def _reason(reason: int) -> str:
    return f.RejectReason.Name(reason).replace("REJECT_REASON_", "")


class Features:
    """The feature store (the `features` service). Get it as `fabrique.connect(...).features`.

    Every method raises `RpcError` subclasses for calls the feature store refuses (`NotFound`
    for an unknown group or entity, `PermissionDenied` for another squad's group, ...) and
    `InvalidInput` for input refused before anything is sent.
    """

    def __init__(self, client: "Client") -> None:
        self._client = client
        self._store = client.stub("features", features_pb2_grpc.FeatureStoreStub)

    def _call(self, method: str, request: Any, idempotent: bool = True) -> Any:
        return self._client.call(getattr(self._store, method), request, idempotent=idempotent)

    def group(self, name: str) -> f.FeatureGroup:
        """Returns the feature group `name` at its latest schema version. Raises NotFound."""
        return self._call("GetFeatureGroup", f.GetFeatureGroupRequest(name=name))

    def entity(self, name: str) -> f.Entity:
        """Returns the entity `name`. Raises NotFound."""
        return self._call("GetEntity", f.GetEntityRequest(name=name))

    # --- definitions -----------------------------------------------------------------------

    def apply(self, definitions: Definitions, *, dry_run: bool = False) -> List[Applied]:
        """Creates or updates entities and feature groups, entities first (groups refer to
        them), as `fabrique features apply` does.

        Args:
          definitions: {"entities": [...], "feature_groups": [...]} in the proto JSON mapping of
                       fabrique.v1 (Entity, FeatureGroupSpec); or a list of such entries or of
                       the messages; or the path of a JSON file holding the dict.
          dry_run:     validate and report the outcome; store nothing.
        Returns:
          An `Applied` per definition, in the order applied: what was created, updated (with
          the features added) or left unchanged.
        Raises:
          InvalidInput: an entry that does not parse (nothing is sent).
          RpcError: the first definition refused (FailedPrecondition for a changed feature type,
                    PermissionDenied, ...); those before it are applied, none after it.
        """
        entities, groups = read_definitions(definitions)
        applied: List[Applied] = []
        not_stored = set()
        for entity in entities:
            outcome = self._apply_entity(entity, dry_run)
            if outcome == "would be created":
                not_stored.add(entity.name)
            applied.append(Applied("entity", entity.name, outcome))
        for spec in groups:
            if spec.entity in not_stored:
                # Nothing is stored in a dry run, so the server cannot check a group against an
                # entity the same definitions would create.
                applied.append(Applied("group", spec.name, "not checked"))
                continue
            applied.append(self._apply_group(spec, dry_run))
        return applied

    def _apply_entity(self, entity: f.Entity, dry_run: bool) -> str:
        # Entities have no validate_only: the outcome comes from comparing with what is stored.
        outcome = "created"
        try:
            current = self.entity(entity.name)
            current.ClearField("create_time")
            current.ClearField("update_time")
            outcome = "unchanged" if current == entity else "updated"
        except NotFound:
            pass
        if dry_run:
            return f"would be {outcome}"
        if outcome != "unchanged":
            self._call("ApplyEntity", f.ApplyEntityRequest(entity=entity), idempotent=False)
        return outcome

    def _apply_group(self, spec: f.FeatureGroupSpec, dry_run: bool) -> Applied:
        try:
            before: Optional[f.FeatureGroup] = self.group(spec.name)
        except NotFound:
            before = None
        response = self._call("ApplyFeatureGroup",
                              f.ApplyFeatureGroupRequest(spec=spec, validate_only=dry_run),
                              idempotent=False)
        prefix = "would be " if dry_run else ""
        if response.created:
            outcome = prefix + "created"
        elif response.added_features:
            outcome = prefix + "updated"
        else:
            # A change of description, TTL or tags alone: told apart from "unchanged" by
            # comparing with the group as it was.
            same = before is not None and before.spec == response.group.spec
            outcome = "unchanged" if same else prefix + "updated"
        return Applied("group", spec.name, outcome, response.group.schema_version,
                       tuple(response.added_features))

    def list_groups(self, entity: str = "", owner_squad: str = "") -> pd.DataFrame:
        """Returns the feature groups the caller can see, one row each: name, schema_version,
        entity, owner_squad, features (their names), ttl_seconds, description.

        Args:
          entity, owner_squad: only groups of this entity, or owned by this squad.
        """
        request = f.ListFeatureGroupsRequest(entity=entity, owner_squad=owner_squad)
        rows = []
        while True:
            page = self._call("ListFeatureGroups", request)
            for group in page.groups:
                rows.append({"name": group.spec.name, "schema_version": group.schema_version,
                             "entity": group.spec.entity, "owner_squad": group.spec.owner_squad,
                             "features": [s.name for s in group.spec.features],
                             "ttl_seconds": group.spec.ttl.ToTimedelta().total_seconds(),
                             "description": group.spec.description})
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        return pd.DataFrame(rows, columns=["name", "schema_version", "entity", "owner_squad",
                                           "features", "ttl_seconds", "description"])

    # --- ingest ----------------------------------------------------------------------------

    def ingest(self, frame: pd.DataFrame, group: str, *, key_column: Optional[str] = None,
               time_column: str = "event_time", bulk: bool = False,
               batch_rows: Optional[int] = None, all_or_nothing: bool = False,
               batch_id_prefix: Optional[str] = None, progress: Optional[bool] = None,
               timeout: float = STREAM_TIMEOUT_S) -> IngestSummary:
        """Ingests the rows of `frame` into feature group `group`, streamed in batches on one
        Ingest call, as `fabrique features ingest` does with a CSV file.

        Columns: the entity key (`key_column`, default the entity's join key), the event time
        (`time_column`: datetimes, naive ones being UTC; RFC 3339 text; or Unix microseconds),
        and features of the group (a subset; absent ones are null for these rows). Missing
        values are nulls.

        Args:
          frame:           the rows.
          group:           the feature group.
          bulk:            backfill: each batch's history goes in as one sorted file, several
                           times faster for large historical loads.
          batch_rows:      rows per batch; default 5000, or 100000 with `bulk`.
          all_or_nothing:  a rejected row refuses its whole batch.
          batch_id_prefix: batches are sent as PREFIX#INDEX; passing the same prefix again for
                           the same frame writes nothing twice (a retry after a failure).
                           Default: a fresh prefix each call.
          progress:        a progress bar on stderr; default when stderr is a terminal or in a
                           notebook.
          timeout:         deadline of the whole stream, in seconds.
        Returns:
          An IngestSummary: rows written and rejected, with the first rejects by frame row.
        Raises:
          InvalidInput: `frame` is not a DataFrame, is empty, lacks the key or time column, has a
                        column the group does not have or values that do not fit a feature's
                        type (nothing is sent).
          NotFound: no such group. PermissionDenied: the caller may not ingest into it.
          RpcError: the stream failed; batches commit in order, so some first ones may be stored
                    and none after the failed one (retry with the same `batch_id_prefix`).
        """
        frame = _columns.check_frame(frame, "the frame to ingest")
        if batch_rows is not None and batch_rows <= 0:
            raise InvalidInput(f"batch_rows must be > 0, not {batch_rows}")
        batch_rows = batch_rows or (BULK_BATCH_ROWS if bulk else STREAM_BATCH_ROWS)
        schema = self.group(group)
        key_column = key_column or self.entity(schema.spec.entity).join_key
        _columns.require_columns(frame, {key_column: f"the key of entity {schema.spec.entity!r}",
                                 time_column: "the event time"})
        features = {spec.name: spec for spec in schema.spec.features}
        columns = [name for name in frame.columns if name not in (key_column, time_column)]
        for name in columns:
            if name not in features:
                raise InvalidInput(
                    f"column {name!r} is not a feature of group {group!r} (features: "
                    f"{', '.join(features)}; key column {key_column!r}, time column "
                    f"{time_column!r})", str(name))
            _columns.check_values(name, frame[name], features[name].type)
        keys = _columns.keys_as_text(key_column, frame[key_column])
        times = _columns.event_times_micros(time_column, frame[time_column])
        prefix = batch_id_prefix or uuid.uuid4().hex
        template = f.IngestRequest(group=group, all_or_nothing=all_or_nothing, bulk=bulk)

        def batches(bar: Progress) -> Iterator[f.IngestRequest]:
            for ordinal, start in enumerate(range(0, len(frame), batch_rows)):
                end = min(start + batch_rows, len(frame))
                request = f.IngestRequest()
                request.CopyFrom(template)
                request.batch_id = f"{prefix}#{ordinal}"
                request.rows.entity_keys.extend(keys[start:end])
                request.rows.event_time_unix_micros.extend(times[start:end].tolist())
                for name in columns:
                    request.rows.columns.add(
                        feature=c.FeatureRef(feature=name),
                        values=_columns.to_value_column(frame[name].iloc[start:end],
                                                        features[name].type))
                yield request
                bar.update(f"ingest {group}", end, len(frame), "rows")

        with Progress(progress) as bar:
            response = self._client.send_stream(self._store.Ingest, batches(bar),
                                                timeout=timeout)
        return self._summary(frame, response, batch_rows)

    @staticmethod
    def _summary(frame: pd.DataFrame, response: f.IngestResponse,
                 batch_rows: int) -> IngestSummary:
        rejects = []
        for batch in response.batches:
            for reject in batch.rejects:
                position = batch.batch_index * batch_rows + reject.row_index
                row = frame.index[position] if 0 <= position < len(frame) else None
                rejects.append({"row": row, "feature": reject.feature,
                                "reason": _reason(reject.reason), "message": reject.message})
        return IngestSummary(
            rows_written=response.rows_written, rows_rejected=response.rows_rejected,
            batches=len(response.batches),
            duplicates=sum(1 for b in response.batches if b.duplicate),
            reject_counts={_reason(r.reason): r.count for r in response.reject_counts},
            rejects=pd.DataFrame(rejects, columns=["row", "feature", "reason", "message"]))

    # --- reading ---------------------------------------------------------------------------

    def _entity_keys(self, entity: str, keys: Keys) -> Tuple[List[c.EntityKeys], pd.Index]:
        """The request's entity keys and the frame's index for them."""
        if isinstance(keys, Mapping):
            columns = {name: list(values) for name, values in keys.items()}
        elif isinstance(keys, (str, bytes)):
            raise InvalidInput(f"keys must be a list of entity keys, not the text {keys!r}")
        else:
            columns = {entity: list(keys)}
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise InvalidInput(f"every entity needs as many keys: {sorted(lengths)}")
        entity_keys, names, arrays = [], [], []
        for name, values in columns.items():
            join_key = self.entity(name).join_key
            text = _columns.keys_as_text(join_key, pd.Series(values, dtype=object))
            entity_keys.append(c.EntityKeys(entity=name, keys=text))
            names.append(join_key)
            arrays.append(text)
        index = pd.Index(arrays[0], name=names[0]) if len(arrays) == 1 else \
            pd.MultiIndex.from_arrays(arrays, names=names)
        return entity_keys, index

    def lookup(self, name: str, keys: Keys, features: Optional[FeatureNames] = None, *,
               event_times: bool = False, statuses: bool = False,
               full_names: bool = False) -> pd.DataFrame:
        """Looks up the latest value of features for entity keys (the online view, as inference
        reads it).

        Args:
          name:        a feature group (then `features` may be bare names of its features, and
                       defaults to all of them) or an entity (then `features` are
                       "group:feature").
          keys:        the entity's keys (text, or integers written in decimal); for features of
                       several entities, {entity: keys} with as many keys each.
          features:    the features to read.
          event_times: add a "<column>__event_time" column per feature (UTC; NaT where absent).
          statuses:    add a "<column>__status" column per feature: PRESENT, MISSING (no value)
                       or EXPIRED (older than the group's TTL).
          full_names:  name every column "group:feature" (by default the feature's name, unless
                       two groups' features share it).
        Returns:
          A DataFrame with one row per key, indexed by the key (named by the entity's join key),
          a column per feature; values that are missing or expired are null (NaN, <NA> or None).
        Raises:
          NotFound: no such group or entity, or feature. PermissionDenied: another squad's data.
          InvalidInput: keys or features that cannot be sent.
        """
        try:
            schema: Optional[f.FeatureGroup] = self.group(name)
        except NotFound:
            schema = None
        if schema is not None:
            entity = schema.spec.entity
            names = features if features is not None else [s.name for s in schema.spec.features]
            refs = [_columns.feature_ref(n, name) for n in names]
        else:
            try:
                entity = self.entity(name).name
            except NotFound as error:
                raise NotFound(error.code, f"no feature group or entity named {name!r}: "
                               f"{error.message}", error.method) from None
            if not features:
                raise InvalidInput(f"{name!r} is an entity: name the features to read, as "
                                   "\"group:feature\"")
            refs = [_columns.feature_ref(n, None) for n in features]
        entity_keys, index = self._entity_keys(entity, keys)
        columns = _columns.column_names(refs, full_names)
        if len(index) == 0:
            return pd.DataFrame(index=index, columns=columns)
        response = self._call("LookupOnline", f.LookupOnlineRequest(
            features=refs, entity_keys=entity_keys, include_event_times=event_times))
        data: Dict[str, Any] = {}
        for column, online in zip(columns, response.columns):
            present = np.asarray(online.statuses, dtype=np.int64) == c.VALUE_STATUS_PRESENT
            data[column] = _columns.from_value_column(online.values, online.type, len(index),
                                                      nulls=~present)
            if event_times:
                times = _columns.times_from_micros(online.event_time_unix_micros)
                data[f"{column}__event_time"] = times.where(present, pd.NaT)
            if statuses:
                data[f"{column}__status"] = [c.ValueStatus.Name(s).replace("VALUE_STATUS_", "")
                                             for s in online.statuses]
        return pd.DataFrame(data, index=index)

    def history(self, group: str, keys: Optional[Sequence[Any]] = None,
                features: Optional[Sequence[str]] = None, *, start: Any = None, end: Any = None,
                limit: int = 0) -> pd.DataFrame:
        """Reads the stored history of a group, streamed in chunks.

        Args:
          group:    the feature group.
          keys:     only these entity keys; default every entity.
          features: only these features (bare names); default all.
          start, end: only event times in [start, end) (anything pandas reads as a time; naive
                    times are UTC).
          limit:    stop after this many rows; 0 = no limit.
        Returns:
          A DataFrame ordered by entity key then event time: the join key column, `event_time`
          (UTC), and a column per feature.
        Raises:
          NotFound: no such group. PermissionDenied: another squad's data.
        """
        schema = self.group(group)
        join_key = self.entity(schema.spec.entity).join_key
        types = {s.name: s.type for s in schema.spec.features}
        request = f.ReadHistoryRequest(group=group, features=list(features or []), limit=limit)
        if keys is not None:
            request.entity_keys.extend(_columns.keys_as_text(join_key,
                                                             pd.Series(list(keys), dtype=object)))
        if start is not None:
            request.time_range.start_time.FromMicroseconds(_columns.time_micros(start))
        if end is not None:
            request.time_range.end_time.FromMicroseconds(_columns.time_micros(end))
        chunks = []
        for chunk in self._client.stream(self._store.ReadHistory, request,
                                         timeout=STREAM_TIMEOUT_S):
            rows = len(chunk.rows.entity_keys)
            data: Dict[str, Any] = {join_key: list(chunk.rows.entity_keys),
                                    "event_time": _columns.times_from_micros(
                                        chunk.rows.event_time_unix_micros)}
            for column in chunk.rows.columns:
                data[column.feature.feature] = _columns.from_value_column(
                    column.values, types[column.feature.feature], rows)
            chunks.append(pd.DataFrame(data))
        if not chunks:
            names = list(features or types)
            return pd.DataFrame({join_key: pd.Series([], dtype=object),
                                 "event_time": _columns.times_from_micros([]),
                                 **{n: _columns.empty_values(types[n]) for n in names}})
        return pd.concat(chunks, ignore_index=True)

    # --- training sets ---------------------------------------------------------------------

    def training_set(self, spec: Any, labels: Optional[pd.DataFrame] = None, *,
                     time_column: str = "event_time", label_column: str = "label",
                     dataset_name: str = "", full_names: bool = False,
                     label_batch_rows: int = LABEL_BATCH_ROWS, progress: Optional[bool] = None,
                     timeout: float = STREAM_TIMEOUT_S) -> pd.DataFrame:
        """Builds a point-in-time-correct training set: for each label event, every feature's
        latest value whose event time is at or before the label's (and within the group's TTL).

        Streamed both ways: the labels go in batches of `label_batch_rows`, the rows come back
        in chunks; the request is never built whole in memory.

        Args:
          spec:   the features to join: a list of "group:feature"; or a dict in the proto JSON
                  mapping of TrainingSetSpec (features may be "group:feature"; "label":
                  "group:feature" takes the labels from a group instead of `labels`;
                  "time_range" as (start, end) or in the JSON mapping; "dataset_name",
                  "request_id", "chunk_rows", ...); or a TrainingSetSpec.
          labels: the label events: a column per entity the features use (named by its join
                  key, or by the entity's name), `time_column` and `label_column` (bool, integer
                  or text classes; float for regression).
          dataset_name: the name recorded on the dataset for lineage.
          full_names:   name feature columns "group:feature" (see `lookup`).
          progress:     a progress bar while labels are sent (see `ingest`).
        Returns:
          A DataFrame, one row per label event in the time range: the join key column(s),
          `event_time` (UTC), `label` and a column per feature (null where no value was known
          then). With inline labels it is indexed like `labels` (the rows kept); with labels
          from a group, 0..n-1. `frame.attrs["dataset"]` is the fabrique.v1.Dataset recorded
          for lineage (its dataset_id, content_sha256, row_count).
        Raises:
          InvalidInput: labels missing a key, time or label column, or with values that cannot
                        be sent (nothing is sent).
          NotFound: a group or feature that does not exist. PermissionDenied: another squad's
          data. FailedPrecondition: no label event in the time range.
        """
        message = _training_sets.training_spec(spec)
        if dataset_name:
            message.dataset_name = dataset_name
        if not message.features:
            raise InvalidInput("the training set names no features")
        entities: Dict[str, str] = {}  # Entity name -> join key, in the features' order.
        for group in dict.fromkeys(ref.group for ref in message.features):
            entity = self.group(group).spec.entity
            if entity not in entities:
                entities[entity] = self.entity(entity).join_key
        if message.label.HasField("feature"):
            if labels is not None:
                raise InvalidInput("the spec takes its labels from a group's feature; pass no "
                                   "labels frame")
            requests: Iterator[f.BuildTrainingSetRequest] = iter(
                [f.BuildTrainingSetRequest(spec=message)])
            kept_index = None
            output = ("event_time", message.label.feature.feature)
            bar = Progress(False)
        else:
            if labels is None:
                raise InvalidInput("pass the label events as a DataFrame (labels=), or name a "
                                   "label feature in the spec")
            labels, key_columns, label_type, times = _training_sets.check_labels(
                labels, message, entities, time_column, label_column)
            message.label.events.SetInParent()  # Inline: the events follow on the stream.
            kept_index = labels.index
            output = (time_column, label_column)
            bar = Progress(progress)
            requests = _training_sets.label_requests(message, labels, key_columns, label_type,
                                                     times, label_column, label_batch_rows, bar)
        columns = _training_sets.TrainingSetColumns(entities, output[0], output[1], full_names)
        with bar:
            return _training_sets.read_training_set(
                self._client.stream(self._store.BuildTrainingSet, requests, timeout=timeout),
                columns, kept_index)

