"""Windowed aggregations against pandas, on data drawn here: the values a training set joins and
the values an online lookup returns equal pandas' own rolling windows (exactly for count, sum,
min, max and last on integer amounts; to 1e-9 relative for mean and stddev), and they are the same
whether the payments arrived in time order, shuffled, or before the aggregation was defined (its
backfill, from history loaded both streaming and in bulk).

The window: at as-of time T, with S = floor(T / d) * d for the tile length d, a window of k tiles
covers the events with event time in [S - k*d, T]. pandas computes it by sorting each customer's
events with one probe row per as-of time (probes after events at the same time), flooring times to
their tile, and rolling over (k + 1) * d closed on the right: row i sees rows up to i only, so the
probe at T sees exactly the events of tiles (S - (k+1)d, S] up to T."""

import time

import grpc
import numpy as np
import pandas as pd
import pytest

SECOND = 1_000_000  # microseconds
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

ENTITY = "agg_customer"
WINDOWS = {"10m": 10 * MINUTE, "1h": HOUR, "1d": DAY}
FUNCTIONS = ["count", "sum", "mean", "min", "max", "stddev", "last"]
FILTER = "amount > 100"
EXACT = {"count", "sum", "min", "max", "last"}


def store(connect):
    from fabrique.v1 import features_pb2_grpc
    return features_pb2_grpc.FeatureStoreStub(connect("features"))


@pytest.fixture(scope="module")
def fs(connect):
    from fabrique.v1 import features_pb2 as f
    stub = store(connect)
    stub.ApplyEntity(f.ApplyEntityRequest(entity=f.Entity(
        name=ENTITY, join_key="customer_id", owner_squad="risk")), timeout=5)
    return stub


# ---- The data ----

def draw_payments(seed=17, customers=300, payments=3000, now=None):
    """A few thousand payments of a few hundred customers over the last three days: integer
    amounts (some null), a third in bursts so that short windows hold several, some on exact
    tile boundaries. One payment per customer and microsecond (the store keys history by both)."""
    rng = np.random.default_rng(seed)
    now = now or int(time.time() * SECOND)
    start = now - 3 * DAY
    keys = rng.integers(0, customers, payments)
    times = start + rng.integers(0, 3 * DAY - MINUTE, payments)
    burst = rng.random(payments) < 0.35
    centres = start + rng.integers(HOUR, 3 * DAY - HOUR, customers)
    times[burst] = centres[keys[burst]] + rng.integers(-30 * MINUTE, 30 * MINUTE, burst.sum())
    on_boundary = rng.random(payments) < 0.05
    times[on_boundary] = times[on_boundary] // MINUTE * MINUTE
    amounts = rng.integers(1, 400, payments).astype(float)
    amounts[rng.random(payments) < 0.06] = np.nan
    frame = pd.DataFrame({"key": [f"k{k:03d}" for k in keys], "t": times.astype(np.int64),
                          "amount": amounts})
    frame = frame[frame.t < now - SECOND].drop_duplicates(["key", "t"])
    return frame.sort_values("t", kind="mergesort").reset_index(drop=True)


def draw_labels(payments, seed=23, count=400):
    """As-of times that test the edges: random ones over the three days; ones before any payment;
    exact tile boundaries (of 1 minute and of 5 minutes); exact payment times; and, for payments
    on a tile boundary, the last instant each window still holds them and the first it does not."""
    rng = np.random.default_rng(seed)
    start, end = payments.t.min(), payments.t.max()
    keys = sorted(payments.key.unique())
    rows = []
    for _ in range(count):
        rows.append((keys[rng.integers(len(keys))], int(rng.integers(start, end + HOUR))))
    for key in keys[:20]:
        rows.append((key, int(start - DAY)))
    for _ in range(60):
        t = int(rng.integers(start, end))
        rows.append((keys[rng.integers(len(keys))], t // MINUTE * MINUTE))
        rows.append((keys[rng.integers(len(keys))], t // (5 * MINUTE) * (5 * MINUTE)))
    for i in rng.integers(0, len(payments), 80):
        rows.append((payments.key[i], int(payments.t[i])))
    aligned = payments[payments.t % (5 * MINUTE) == 0]
    for i in aligned.index[:30]:
        key, t = payments.key[i], int(payments.t[i])
        for window in WINDOWS.values():
            for tile in (MINUTE, 5 * MINUTE):
                rows.append((key, t + window + tile - 1))  # Its tile is still the window's first.
                rows.append((key, t + window + tile))      # One tile on: it has left.
    labels = pd.DataFrame(rows, columns=["key", "t"])
    return labels.drop_duplicates().reset_index(drop=True)


# ---- The pandas reference ----

# Each customer's times are moved into a span of their own, this far apart, so that one rolling
# over all customers never reaches from one to the next: the same as groupby(customer).rolling,
# without its per-group loop (about ten times faster here).
CUSTOMER_SPAN = 30 * DAY


def reference(payments, values, probes, tile, window):
    """pandas' value of every function over each column of `values` (aligned with `payments`,
    NaN = skipped) for each probe (key, t), for a window of window // tile tiles:
    {(column, function): values in probe order}, NaN where pandas gives NaN."""
    k = window // tile
    events = pd.concat([payments[["key", "t"]].assign(probe=0, order=-1), values], axis=1)
    asked = probes[["key", "t"]].assign(probe=1, order=np.arange(len(probes)))
    frame = pd.concat([events, asked], ignore_index=True)  # Probes: NaN values.
    frame = frame.sort_values(["key", "t", "probe"], kind="mergesort").reset_index(drop=True)
    customer = frame.key.astype("category").cat.codes.to_numpy().astype(np.int64)
    origin = frame.t.min() // tile * tile
    frame["tile_time"] = pd.to_datetime(
        (frame.t - origin) // tile * tile + customer * CUSTOMER_SPAN, unit="us")
    rolling = frame.rolling(f"{(k + 1) * tile // SECOND}s", on="tile_time", closed="right")
    probe_rows = (frame.probe == 1).to_numpy()
    order = np.argsort(frame.order.to_numpy()[probe_rows], kind="stable")
    results = {}
    for function, method in (("count", "count"), ("sum", "sum"), ("mean", "mean"),
                             ("min", "min"), ("max", "max"), ("stddev", "std")):
        rolled = getattr(rolling[list(values.columns)], method)()
        for column in values.columns:
            results[(column, function)] = rolled[column].to_numpy()[probe_rows][order]
    # LAST: the newest non-null value at or before the probe, if its tile is in the window.
    start = frame.tile_time - pd.to_timedelta((k + 1) * tile, unit="us")
    for column in values.columns:
        has = frame[column].notna()
        last_value = frame[column].where(has).groupby(customer).ffill()
        last_tile = frame.tile_time.where(has).groupby(customer).ffill()
        results[(column, "last")] = last_value.where(last_tile > start).to_numpy()[probe_rows][
            order]
    return results


def source_columns(payments):
    """What the aggregations read, by (feature, filtered): the amount, a 1 per row (COUNT of
    rows), and both where the filter holds."""
    big = payments.amount > 100
    rows = pd.Series(1.0, index=payments.index)
    return pd.DataFrame({column_name("amount", False): payments.amount,
                         column_name("", False): rows,
                         column_name("amount", True): payments.amount.where(big),
                         column_name("", True): rows.where(big)})


def column_name(feature, filtered):
    return ("big_" if filtered else "") + (feature or "rows")


_REFERENCES = {}


def cached_reference(payments, probes, tile, window):
    """reference() for every column the aggregations read, computed once per probe set (the
    scenarios share their labels, and their lookups when made in the same tile)."""
    key = (id(payments), tuple(probes.key), tuple(probes.t), tile, window)
    if key not in _REFERENCES:
        _REFERENCES[key] = reference(payments, source_columns(payments), probes, tile, window)
    return _REFERENCES[key]


class Group:
    """An aggregation group's definition, and for each of its output features how pandas
    computes it."""

    def __init__(self, name, source, tile, aggregations, lateness=0):
        self.name, self.source, self.tile = name, source, tile
        self.aggregations, self.lateness = aggregations, lateness

    def spec(self):
        from fabrique.v1 import features_pb2 as f
        spec = f.FeatureGroupSpec(name=self.name, entity=ENTITY, owner_squad="risk")
        aggregation = spec.aggregation
        aggregation.source_group = self.source
        aggregation.tile.FromMicroseconds(self.tile)
        aggregation.lateness.FromMicroseconds(self.lateness)
        for feature, function, filter_, name in self.aggregations:
            added = aggregation.aggregations.add(
                feature=feature, filter=filter_, name=name,
                function=f.AggregationFunction.Value(f"AGGREGATION_FUNCTION_{function.upper()}"))
            for window in WINDOWS.values():
                added.windows.add().FromMicroseconds(window)
        return spec

    def outputs(self):
        """(output feature, function, window, source column, filtered) in the server's order."""
        for feature, function, filter_, name in self.aggregations:
            prefix = name or (f"{feature}_{function}" if feature else "count")
            for window_name, window in WINDOWS.items():
                yield f"{prefix}_{window_name}", function, window, feature, bool(filter_)

    def expected(self, payments, probes):
        return {output: cached_reference(payments, probes, self.tile, window)[
                    (column_name(feature, filtered), function)]
                for output, function, window, feature, filtered in self.outputs()}


def groups_over(source, suffix):
    every = [("amount", fn, "", "") for fn in FUNCTIONS] + [
        ("", "count", "", ""),
        ("", "count", FILTER, "big_count"),
        ("amount", "sum", FILTER, "big_amount_sum")]
    by_five = [("", "count", "", ""), ("amount", "sum", "", ""), ("amount", "mean", "", "")]
    return [Group(f"agg_stats_{suffix}", source, MINUTE, every),
            Group(f"agg_stats5_{suffix}", source, 5 * MINUTE, by_five)]


# ---- Calls ----

def apply_source(fs, name):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    spec = f.FeatureGroupSpec(name=name, entity=ENTITY, owner_squad="risk")
    spec.features.add(name="amount", type=c.FEATURE_TYPE_DOUBLE)
    fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)


def apply_group(fs, group):
    """Applies `group` with progress; returns (progress messages, the response)."""
    from fabrique.v1 import features_pb2 as f
    messages = list(fs.ApplyFeatureGroupWithProgress(
        f.ApplyFeatureGroupRequest(spec=group.spec()), timeout=60))
    assert messages and messages[-1].HasField("done"), messages
    return messages[:-1], messages[-1].done


def batch(payments, group, name, bulk=False):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    rows = f.RowBatch(entity_keys=list(payments.key),
                      event_time_unix_micros=[int(t) for t in payments.t])
    nulls = payments.amount.isna().to_list()
    rows.columns.add(feature=c.FeatureRef(feature="amount"), values=c.ValueColumn(
        double_values=c.DoubleList(values=payments.amount.fillna(0).to_list()),
        is_null=nulls if any(nulls) else []))
    return f.IngestRequest(group=group, batch_id=name, rows=rows, bulk=bulk)


def ingest(fs, payments, group, prefix, batch_rows=500, bulk=False):
    requests = [batch(payments.iloc[i:i + batch_rows], group, f"{prefix}-{i}", bulk)
                for i in range(0, len(payments), batch_rows)]
    reply = fs.Ingest(iter(requests), timeout=60)
    assert reply.rows_rejected == 0, reply
    assert reply.rows_written == len(payments)


def column_values(column):
    """A FeatureColumn's or OnlineFeatureColumn's values as floats, NaN where null."""
    values = column.values
    raw = (values.int64_values.values if values.HasField("int64_values")
           else values.double_values.values)
    out = np.array(raw, dtype=float)
    if len(values.is_null):
        out[np.array(values.is_null, dtype=bool)] = np.nan
    return out


def training_set(fs, groups, labels):
    """Every output of `groups` as of each label's time: {feature: values in label order}."""
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    refs = [c.FeatureRef(group=g.name, feature=o[0]) for g in groups for o in g.outputs()]
    events = c.LabelEventBatch(entity_keys=[c.EntityKeys(entity=ENTITY, keys=list(labels.key))],
                               event_time_unix_micros=[int(t) for t in labels.t],
                               labels=c.ValueColumn(bool_values=c.BoolList(
                                   values=[True] * len(labels))))
    spec = f.TrainingSetSpec(features=refs, label=c.LabelSource(events=events),
                             dataset_name="agg-check", chunk_rows=256)
    requests = [f.BuildTrainingSetRequest(spec=spec)]
    values = {(r.group, r.feature): np.full(len(labels), np.nan) for r in refs}
    seen = np.zeros(len(labels), dtype=bool)
    for part in fs.BuildTrainingSet(iter(requests), timeout=60):
        if not part.HasField("rows"):
            continue
        index = np.array(part.rows.label_event_index, dtype=np.int64)
        seen[index] = True
        for column in part.rows.features:
            values[(column.feature.group, column.feature.feature)][index] = column_values(column)
    assert seen.all(), "every label event has its row"
    return values


def lookup_now(fs, groups, keys):
    """Every output of `groups` online, and the clock before the lookup; retried until the
    lookup began and ended in the same tile, so the value as of any instant of it is the same."""
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    refs = [c.FeatureRef(group=g.name, feature=o[0]) for g in groups for o in g.outputs()]
    request = f.LookupOnlineRequest(features=refs,
                                    entity_keys=[c.EntityKeys(entity=ENTITY, keys=keys)])
    for _ in range(5):
        before = int(time.time() * SECOND)
        response = fs.LookupOnline(request, timeout=10)
        after = int(time.time() * SECOND)
        if before // MINUTE == after // MINUTE:
            break
    else:
        pytest.fail("five lookups in a row straddled a tile boundary")
    values = {}
    for column in response.columns:
        got = column_values(column)
        missing = np.array([s != c.VALUE_STATUS_PRESENT for s in column.statuses])
        got[missing] = np.nan
        values[(column.feature.group, column.feature.feature)] = got
    return values, before


def assert_matches(groups, got, payments, probes, where):
    problems = []
    for group in groups:
        expected = group.expected(payments, probes)
        for output, function, *_ in group.outputs():
            want, have = expected[output], got[(group.name, output)]
            if function == "count":
                want = np.nan_to_num(want, nan=0.0)  # An empty window counts 0.
            both_null = np.isnan(want) & np.isnan(have)
            if function in EXACT:
                wrong = ~both_null & (want != have)
            else:
                wrong = ~both_null & ~np.isclose(have, want, rtol=1e-9, atol=1e-9)
                wrong |= np.isnan(want) != np.isnan(have)
            for i in np.flatnonzero(wrong)[:3]:
                problems.append(f"{where} {group.name}:{output} {probes.key[i]} "
                                f"t={probes.t[i]}: pandas {want[i]!r}, Fabrique {have[i]!r}")
    assert not problems, "\n".join(problems)


# ---- The three scenarios ----

@pytest.fixture(scope="module")
def data():
    payments = draw_payments()
    return payments, draw_labels(payments)


@pytest.fixture(scope="module")
def scenarios(fs, data):
    """The same payments three ways, each into a source group and aggregation groups of its own:
    in time order, shuffled (both after the aggregation groups exist), and loaded before the
    aggregation groups were applied (half streamed, half in bulk; then a backfill)."""
    payments, _ = data
    shuffled = payments.sample(frac=1, random_state=5)
    made = {}
    for suffix, rows in (("ordered", payments), ("shuffled", shuffled)):
        apply_source(fs, f"agg_pay_{suffix}")
        groups = groups_over(f"agg_pay_{suffix}", suffix)
        for group in groups:
            _, done = apply_group(fs, group)
            assert done.created
        ingest(fs, rows, f"agg_pay_{suffix}", suffix)
        made[suffix] = groups

    apply_source(fs, "agg_pay_backfill")
    half = len(shuffled) // 2
    ingest(fs, shuffled.iloc[:half], "agg_pay_backfill", "stream")
    ingest(fs, shuffled.iloc[half:].sort_values(["key", "t"]), "agg_pay_backfill", "bulk",
           batch_rows=1000, bulk=True)
    groups = groups_over("agg_pay_backfill", "backfill")
    for group in groups:
        progress, done = apply_group(fs, group)
        assert done.created and done.group.schema_version == 1
        assert progress, "a backfill over history streams its progress"
        scanned = [p.backfill.rows_scanned for p in progress]
        assert scanned == sorted(scanned) and scanned[-1] <= len(payments)
    made["backfill"] = groups
    return made


def test_output_features_are_named_and_typed_as_documented(fs, scenarios):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    group = fs.GetFeatureGroup(f.GetFeatureGroupRequest(name="agg_stats_ordered"), timeout=5)
    names = [feature.name for feature in group.spec.features]
    assert names == [o[0] for o in scenarios["ordered"][0].outputs()]
    assert names[:3] == ["amount_count_10m", "amount_count_1h", "amount_count_1d"]
    assert "count_1d" in names and "big_amount_sum_1h" in names
    types = {feature.name: feature.type for feature in group.spec.features}
    assert types["count_1h"] == c.FEATURE_TYPE_INT64
    assert types["amount_stddev_10m"] == c.FEATURE_TYPE_DOUBLE
    assert group.spec.entity == ENTITY and group.schema_version == 1


@pytest.mark.parametrize("scenario", ["ordered", "shuffled", "backfill"])
def test_training_set_equals_pandas(fs, data, scenarios, scenario):
    payments, labels = data
    groups = scenarios[scenario]
    assert_matches(groups, training_set(fs, groups, labels), payments, labels,
                   f"training set ({scenario})")


@pytest.mark.parametrize("scenario", ["ordered", "shuffled", "backfill"])
def test_online_lookup_equals_pandas_as_of_now(fs, data, scenarios, scenario):
    payments, _ = data
    groups = scenarios[scenario]
    keys = sorted(payments.key.unique()) + ["never_paid"]
    got, now = lookup_now(fs, groups, keys)
    # Every payment is older than the lookup, so any instant of its tile gives the same values:
    # the tile's last one lets the scenarios share the reference.
    as_of = now // MINUTE * MINUTE + MINUTE - 1
    probes = pd.DataFrame({"key": keys, "t": [as_of] * len(keys)})
    assert_matches(groups, got, payments, probes, f"lookup ({scenario})")


def test_the_three_scenarios_agree(fs, data, scenarios):
    payments, labels = data
    keys = sorted(payments.key.unique())
    trained = {s: training_set(fs, g, labels) for s, g in scenarios.items()}
    for _ in range(5):  # The three lookups in one tile, so the windows are the same.
        start = int(time.time() * SECOND)
        online = {s: lookup_now(fs, g, keys)[0] for s, g in scenarios.items()}
        if start // MINUTE == int(time.time() * SECOND) // MINUTE:
            break
    # Exactly equal, but for mean and stddev, whose float merges of tiles may round in another
    # order: equal to 1e-9 relative, as against pandas.
    for scenario in ("shuffled", "backfill"):
        for values, other in ((trained["ordered"], trained[scenario]),
                              (online["ordered"], online[scenario])):
            for (group, feature), want in values.items():
                have = other[(group.replace("ordered", scenario), feature)]
                exact = not feature.startswith(("amount_mean", "amount_stddev"))
                same = (np.array_equal(want, have, equal_nan=True) if exact else
                        np.allclose(want, have, rtol=1e-9, atol=0, equal_nan=True))
                assert same, (scenario, group, feature)


# ---- What is refused ----

def test_rows_later_than_the_lateness_are_rejected_per_row(fs):
    from fabrique.v1 import features_pb2 as f
    apply_source(fs, "agg_pay_late")
    group = Group("agg_stats_late", "agg_pay_late", MINUTE, [("", "count", "", "")],
                  lateness=HOUR)
    apply_group(fs, group)
    now = int(time.time() * SECOND)
    rows = pd.DataFrame({"key": ["l1", "l1", "l2"],
                         "t": [now - 10 * MINUTE, now - 2 * HOUR, now - 3 * DAY],
                         "amount": [5.0, 6.0, 7.0]})
    reply = fs.Ingest(iter([batch(rows, "agg_pay_late", "late-1")]), timeout=10)
    assert reply.rows_written == 1
    rejects = reply.batches[0].rejects
    assert [r.row_index for r in rejects] == [1, 2]
    assert {r.reason for r in rejects} == {f.REJECT_REASON_TOO_LATE}
    assert "agg_stats_late" in rejects[0].message and ("1h" in rejects[0].message
                                                       or "3600" in rejects[0].message)
    # Rejected as a whole: not written to the source either.
    history = [v for chunk in fs.ReadHistory(f.ReadHistoryRequest(
        group="agg_pay_late", entity_keys=["l1", "l2"]), timeout=5)
        for v in chunk.rows.event_time_unix_micros]
    assert history == [now - 10 * MINUTE]
    got, _ = lookup_now(fs, [group], ["l1", "l2"])
    assert list(got[("agg_stats_late", "count_1h")]) == [1, 0]


def test_a_window_that_is_not_whole_tiles_is_refused_with_the_nearest_valid_ones(fs):
    from fabrique.v1 import features_pb2 as f
    apply_source(fs, "agg_pay_refused")
    spec = Group("agg_stats_refused", "agg_pay_refused", MINUTE,
                 [("", "count", "", "")]).spec()
    del spec.aggregation.aggregations[0].windows[:]
    spec.aggregation.aggregations[0].windows.add().FromSeconds(150)
    with pytest.raises(grpc.RpcError) as error:
        fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = error.value.details()
    assert "150s" in message or "2m30s" in message, message
    assert ("2m" in message or "120s" in message) and ("3m" in message or "180s" in message), \
        message


def test_rows_are_never_ingested_into_an_aggregation_group(fs, scenarios):
    payments = draw_payments(seed=3, customers=2, payments=3)
    with pytest.raises(grpc.RpcError) as error:
        fs.Ingest(iter([batch(payments, "agg_stats_ordered", "into-aggregates")]), timeout=5)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "agg_stats_ordered" in error.value.details()
