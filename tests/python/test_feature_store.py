"""The feature store from Python, as a data engineer and a data scientist use it: define, ingest,
look up online, build a point-in-time training set, and find it in the lineage, each over TLS with
a token for the role that does it. The README's worked example is this file's flow."""

import time

import grpc
import pytest

HOUR = 3_600_000_000  # microseconds


def store(connect, user=None, groups=()):
    from fabrique.v1 import features_pb2_grpc
    return features_pb2_grpc.FeatureStoreStub(connect("features", user=user, groups=groups))


@pytest.fixture(scope="module")
def fs(connect):
    """The feature store as dana, a data engineer of the risk squad."""
    return store(connect, "dana", ["risk:data-engineer"])


@pytest.fixture(scope="module")
def scientist(connect):
    """The feature store as sam, a data scientist of the risk squad."""
    return store(connect, "sam", ["risk:data-scientist"])


def test_define_ingest_lookup_and_train(fs, scientist, connect):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f

    # 1. Definitions: an entity and a feature group with a TTL and an expectation.
    fs.ApplyEntity(f.ApplyEntityRequest(entity=f.Entity(name="customer", join_key="customer_id",
                                                        owner_squad="risk")), timeout=5)
    spec = f.FeatureGroupSpec(name="payments", entity="customer", owner_squad="risk")
    spec.ttl.FromSeconds(7 * 24 * 3600)
    amount = spec.features.add(name="amount", type=c.FEATURE_TYPE_DOUBLE)
    amount.expectations.min_value.value = 0
    spec.features.add(name="country", type=c.FEATURE_TYPE_STRING)
    applied = fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)
    assert applied.group.schema_version == 1

    # 2. Ingest: a client stream of columnar batches; bad rows come back with index and reason.
    now = int(time.time() * 1e6)
    rows = f.RowBatch(entity_keys=["c1", "c2", "c1"],
                      event_time_unix_micros=[now - 3 * HOUR, now - 2 * HOUR, now - HOUR])
    rows.columns.add(feature=c.FeatureRef(feature="amount"),
                     values=c.ValueColumn(double_values=c.DoubleList(values=[10.0, -1.0, 12.5])))
    rows.columns.add(feature=c.FeatureRef(feature="country"),
                     values=c.ValueColumn(string_values=c.StringList(values=["FR", "DE", "FR"])))
    reply = fs.Ingest(iter([f.IngestRequest(group="payments", batch_id="b-1", rows=rows)]),
                      timeout=10)
    assert reply.rows_written == 2
    assert [(r.row_index, r.feature) for r in reply.batches[0].rejects] == [(1, "amount")]

    # 3. Online lookup: the newest value per entity, with a status per value.
    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="payments", feature="amount")],
        entity_keys=[c.EntityKeys(entity="customer", keys=["c1", "c2"])]), timeout=5)
    column = lookup.columns[0]
    assert column.values.double_values.values[0] == 12.5
    assert list(column.statuses) == [c.VALUE_STATUS_PRESENT, c.VALUE_STATUS_MISSING]

    # 4. A point-in-time training set, built by a data scientist: each label sees only what was
    # known at its time.
    labels = c.LabelEventBatch(entity_keys=[c.EntityKeys(entity="customer", keys=["c1", "c1"])],
                               event_time_unix_micros=[now - 150 * 60 * 10**6, now],
                               labels=c.ValueColumn(bool_values=c.BoolList(values=[False, True])))
    spec = f.TrainingSetSpec(features=[c.FeatureRef(group="payments", feature="amount")],
                             label=c.LabelSource(events=labels), dataset_name="demo")
    parts = list(scientist.BuildTrainingSet(iter([f.BuildTrainingSetRequest(spec=spec)]),
                                            timeout=10))
    assert parts[0].HasField("header") and parts[-1].HasField("summary")
    values = [v for p in parts if p.HasField("rows")
              for v in p.rows.features[0].values.double_values.values]
    assert values == [10.0, 12.5]
    dataset = parts[-1].summary
    assert dataset.row_count == 2 and len(dataset.content_sha256) == 64

    # 5. Lineage: record that a model was trained on it (the trainer's part; the platform admin
    # stands in for it), then ask who depends on the group.
    store(connect).RecordDatasetUsage(f.RecordDatasetUsageRequest(
        dataset_id=dataset.dataset_id, model_version=c.ModelVersionRef(model="fraud", version=1)),
        timeout=5)
    lineage = scientist.GetFeatureGroupLineage(f.GetFeatureGroupLineageRequest(group="payments"),
                                        timeout=5)
    assert [m.model_version.model for m in lineage.models] == ["fraud"]


def test_errors_name_what_to_fix(fs):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    with pytest.raises(grpc.RpcError) as error:
        fs.GetFeatureGroup(f.GetFeatureGroupRequest(name="nope"), timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and "nope" in error.value.details()
    spec = f.FeatureGroupSpec(name="Bad-Name", entity="customer", owner_squad="risk")
    with pytest.raises(grpc.RpcError) as error:
        fs.ApplyFeatureGroup(f.ApplyFeatureGroupRequest(spec=spec), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Bad-Name" in error.value.details()
