"""`fabrique features apply / ingest / list` against a live `fabrique up`, as a data engineer
uses them: definitions from a JSON file, rows from a CSV file, values checked online."""

import json
import time

import pytest

from conftest import fabrique
from test_cli import secure_channel

HOUR = 3_600_000_000  # microseconds

DEFINITIONS = {
    "entities": [{"name": "cli_shop", "joinKey": "shop_id", "description": "A shop",
                  "ownerSquad": "growth"}],
    "feature_groups": [{
        "name": "cli_orders", "entity": "cli_shop", "ownerSquad": "growth", "ttl": "86400s",
        "features": [
            {"name": "amount", "type": "FEATURE_TYPE_DOUBLE",
             "expectations": {"minValue": 0}},
            {"name": "items", "type": "FEATURE_TYPE_INT64"},
            {"name": "label", "type": "FEATURE_TYPE_STRING"},
            {"name": "paid", "type": "FEATURE_TYPE_BOOL"},
            {"name": "embedding", "type": "FEATURE_TYPE_FLOAT_VECTOR"},
        ],
    }],
}


@pytest.fixture(scope="module")
def target(running):
    return ["--data_dir", str(running.data_dir)]


@pytest.fixture(scope="module")
def fs(stubs, running):
    from fabrique.v1 import features_pb2_grpc
    channel = secure_channel(running, "features")
    yield features_pb2_grpc.FeatureStoreStub(channel)
    channel.close()


def write_json(path, definitions):
    path.write_text(json.dumps(definitions))
    return str(path)


def test_apply_reapply_and_refused_type_change(target, tmp_path):
    path = write_json(tmp_path / "defs.json", DEFINITIONS)
    first = fabrique("features", "apply", *target, path)
    assert first.returncode == 0, first.stderr
    assert "entity cli_shop: created" in first.stdout
    assert "group cli_orders: created (schema v1)" in first.stdout

    again = fabrique("features", "apply", *target, path)
    assert again.returncode == 0, again.stderr
    assert "entity cli_shop: unchanged" in again.stdout
    assert "group cli_orders: unchanged" in again.stdout

    grown = json.loads(json.dumps(DEFINITIONS))
    grown["feature_groups"][0]["features"].append({"name": "tip", "type": "FEATURE_TYPE_DOUBLE"})
    dry = fabrique("features", "apply", "--dry_run", *target,
                   write_json(tmp_path / "grown.json", grown))
    assert dry.returncode == 0, dry.stderr
    assert "would be updated, added features tip (schema v2)" in dry.stdout
    assert "unchanged (schema v1)" in fabrique("features", "apply", *target, path).stdout

    changed = json.loads(json.dumps(DEFINITIONS))
    changed["feature_groups"][0]["features"][1]["type"] = "FEATURE_TYPE_STRING"
    refused = fabrique("features", "apply", *target, write_json(tmp_path / "bad.json", changed))
    assert refused.returncode == 1
    assert "FAILED_PRECONDITION" in refused.stderr and "items" in refused.stderr
    assert "1 of 2 definitions applied" in refused.stderr

    # A file that is not such JSON is a usage error: nothing was sent.
    bad_entry = {"entities": [{"name": "x", "no_such_field": 1}]}
    bad = fabrique("features", "apply", *target, write_json(tmp_path / "e.json", bad_entry))
    assert bad.returncode == 2 and "entities[0]" in bad.stderr


def test_ingest_csv_and_lookup(target, tmp_path, fs):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    now = int(time.time() * 1e6)
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1e6 - 60))
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "shop_id,event_time,amount,items,label,paid,embedding\n"
        f's1,{now - 2 * HOUR},10.5,3,"big, red ""box""",true,1;2;3\n'
        f"s2,{iso},7.25,,plain,false,\n"
        f"s3,{now - HOUR},-4,1,neg,true,0.5\n"          # line 4: amount below min
        f"s4,{now - HOUR},1.0,many,x,true,1\n"          # line 5: not an integer
        f"s1,{now - HOUR},12.0,4,\"two\nlines\",false,4;5;6\n")
    result = fabrique("features", "ingest", "--group", "cli_orders", "--batch_rows", "2",
                      *target, str(csv))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rows read:     5" in out
    assert "rows written:  3" in out
    assert "rows rejected: 2" in out
    assert "BELOW_MIN" in out and "BAD_VALUE (client)" in out
    assert "line 4: amount:" in out and "line 5: items:" in out
    assert "rows/s" in out

    # Batch ids are file name + index: re-running the same file is idempotent, and says so.
    rerun = fabrique("features", "ingest", "--group", "cli_orders", "--batch_rows", "2",
                     *target, str(csv))
    assert rerun.returncode == 0 and "2 already ingested" in rerun.stdout

    strict = fabrique("features", "ingest", "--group", "cli_orders", "--fail_on_rejects",
                      "--batch_id_prefix", "strict", *target, str(csv))
    assert strict.returncode == 1 and "rows rejected: 2" in strict.stdout

    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="cli_orders", feature=n)
                  for n in ("amount", "items", "label", "embedding")],
        entity_keys=[c.EntityKeys(entity="cli_shop", keys=["s1", "s2", "s3"])]), timeout=5)
    amount, items, label, embedding = lookup.columns
    assert list(amount.values.double_values.values[:2]) == [12.0, 7.25]
    assert amount.statuses[2] == c.VALUE_STATUS_MISSING
    assert items.values.int64_values.values[0] == 4
    assert items.statuses[1] != c.VALUE_STATUS_PRESENT  # The empty cell was a null.
    assert label.values.string_values.values[0] == "two\nlines"
    assert list(embedding.values.float_vector_values.values[0].values) == [4.0, 5.0, 6.0]

    older = tmp_path / "older.csv"
    older.write_text(f'shop_id,event_time,label\ns9,{now - 3 * HOUR},"big, red ""box"""\n')
    assert fabrique("features", "ingest", "--group", "cli_orders", *target,
                    str(older)).returncode == 0
    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="cli_orders", feature="label")],
        entity_keys=[c.EntityKeys(entity="cli_shop", keys=["s9"])]), timeout=5)
    assert lookup.columns[0].values.string_values.values[0] == 'big, red "box"'


def test_bulk_backfill_csv_keeps_newest_online(target, tmp_path, fs):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    now = int(time.time() * 1e6)
    live = tmp_path / "live.csv"
    live.write_text(f"shop_id,event_time,amount\nb1,{now - HOUR},100\n")
    assert fabrique("features", "ingest", "--group", "cli_orders", *target,
                    str(live)).returncode == 0
    backfill = tmp_path / "backfill.csv"
    backfill.write_text("shop_id,event_time,amount\n" + "".join(
        f"b{e},{now - (10 - t) * HOUR},{e * 10 + t}\n" for e in (1, 2) for t in range(5))
        + f"b2,{now - 2 * HOUR},-1\n")                 # line 12: below the minimum
    result = fabrique("features", "ingest", "--group", "cli_orders", "--bulk", "--batch_rows",
                      "4", *target, str(backfill))
    assert result.returncode == 0, result.stderr
    assert "rows written:  10" in result.stdout and "rows rejected: 1" in result.stdout
    assert "line 12: amount:" in result.stdout

    history = [chunk for chunk in fs.ReadHistory(
        f.ReadHistoryRequest(group="cli_orders", entity_keys=["b1"], features=["amount"]),
        timeout=5)]
    amounts = [v for chunk in history for v in chunk.rows.columns[0].values.double_values.values]
    assert amounts == [10, 11, 12, 13, 14, 100]      # Backfill under the live row, in time order.
    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="cli_orders", feature="amount")],
        entity_keys=[c.EntityKeys(entity="cli_shop", keys=["b1", "b2"])]), timeout=5)
    assert list(lookup.columns[0].values.double_values.values) == [100, 24]  # b1 stays live.


def test_ingest_unknown_column_sends_nothing(target, tmp_path, fs):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    csv = tmp_path / "unknown.csv"
    csv.write_text("shop_id,event_time,amount,colour\nu1,1000000,1.0,red\n")
    result = fabrique("features", "ingest", "--group", "cli_orders", *target, str(csv))
    assert result.returncode == 1
    assert "column 'colour' is not a feature" in result.stderr
    assert "rows written" not in result.stdout
    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="cli_orders", feature="amount")],
        entity_keys=[c.EntityKeys(entity="cli_shop", keys=["u1"])]), timeout=5)
    assert lookup.columns[0].statuses[0] == c.VALUE_STATUS_MISSING

    missing = fabrique("features", "ingest", "--group", "no_such_group", *target, str(csv))
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr


def test_list_shows_the_group(target, tmp_path):
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    listed = fabrique("features", "list", *target)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("cli_orders "))
    assert row.split()[1:4] == ["v1", "cli_shop", "growth"]


def test_help_and_bad_usage():
    top = fabrique("features", "--help")
    assert top.returncode == 0
    assert all(s in top.stdout for s in ("apply", "ingest", "list"))
    for sub, flags in {"apply": ["--dry_run", "--target", "--timeout"],
                       "ingest": ["--group", "--batch_rows", "--time_column", "--all_or_nothing",
                                  "--fail_on_rejects", "--key_column", "--bulk"],
                       "list": ["--entity", "--target"]}.items():
        help_ = fabrique("features", sub, "--help")
        assert help_.returncode == 0, sub
        for flag in flags:
            assert flag in help_.stdout, (sub, flag)
    assert "5000" in fabrique("features", "ingest", "--help").stdout
    assert "event_time" in fabrique("features", "ingest", "--help").stdout
    assert "127.0.0.1:7101" in fabrique("features", "apply", "--help").stdout

    assert fabrique("features").returncode == 2
    assert fabrique("features", "frobnicate").returncode == 2
    assert fabrique("features", "apply").returncode == 2
    assert fabrique("features", "apply", "--no_such_flag", "x.json").returncode == 2
    assert fabrique("features", "ingest", "orders.csv").returncode == 2  # No --group.


def test_all_or_nothing_refuses_the_batch_of_an_unreadable_row(target, tmp_path):
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    csv = tmp_path / "aon.csv"
    csv.write_text("shop_id,event_time,amount\n"
                   "a1,1000000,1\na2,garbage,2\na3,1000000,3\n"  # batch 0: refused
                   "a4,1000000,4\na5,1000000,5\n")             # batch 1: written
    result = fabrique("features", "ingest", "--group", "cli_orders", "--all_or_nothing",
                      "--batch_rows", "2", *target, str(csv))
    assert result.returncode == 0, result.stderr
    assert "rows written:  2" in result.stdout and "rows rejected: 3" in result.stdout
    assert "BATCH_REFUSED (client)" in result.stdout and "line 3:" in result.stdout


def test_dry_run_with_a_new_entity_stores_nothing(target, tmp_path):
    fresh = {"entities": [{"name": "cli_dry", "joinKey": "dry_id", "ownerSquad": "growth"}],
             "feature_groups": [{"name": "cli_dry_group", "entity": "cli_dry",
                                 "ownerSquad": "growth", "features": [
                 {"name": "x", "type": "FEATURE_TYPE_FLOAT"}]}]}
    dry = fabrique("features", "apply", "--dry_run", *target,
                   write_json(tmp_path / "dry.json", fresh))
    assert dry.returncode == 0, dry.stderr
    assert "entity cli_dry: would be created" in dry.stdout
    assert "group cli_dry_group: not checked" in dry.stdout
    assert "cli_dry_group" not in fabrique("features", "list", *target).stdout


def test_a_csv_with_a_byte_order_mark_loads_as_excel_meant_it(target, tmp_path, fs):
    from fabrique.v1 import common_pb2 as c, features_pb2 as f
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    now = int(time.time() * 1e6)
    csv = tmp_path / "excel.csv"
    csv.write_bytes("\ufeffshop_id,event_time,amount\r\n".encode() +
                    f"bom1,{now - HOUR},3.5\r\n".encode())
    result = fabrique("features", "ingest", "--group", "cli_orders", *target, str(csv))
    assert result.returncode == 0, result.stderr
    assert "rows written:  1" in result.stdout
    lookup = fs.LookupOnline(f.LookupOnlineRequest(
        features=[c.FeatureRef(group="cli_orders", feature="amount")],
        entity_keys=[c.EntityKeys(entity="cli_shop", keys=["bom1"])]), timeout=5)
    assert list(lookup.columns[0].values.double_values.values) == [3.5]


def test_a_csv_that_cannot_be_read_says_why_and_exits_2(target, tmp_path):
    missing = tmp_path / "nope.csv"
    result = fabrique("features", "ingest", "--group", "cli_orders", *target, str(missing))
    assert result.returncode == 2
    assert result.stderr == (f"fabrique features ingest: cannot read {missing}: "
                             "No such file or directory\n")
    folder = fabrique("features", "ingest", "--group", "cli_orders", *target, str(tmp_path))
    assert folder.returncode == 2
    assert folder.stderr == (f"fabrique features ingest: {tmp_path} is a directory; "
                             "expected a file\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    blank = fabrique("features", "ingest", "--group", "cli_orders", *target, str(empty))
    assert blank.returncode == 2
    assert blank.stderr == f"fabrique features ingest: {empty} is empty; expected a header row\n"


AGGREGATES = {
    "feature_groups": [{
        "name": "cli_order_stats", "entity": "cli_shop", "ownerSquad": "growth",
        "aggregation": {"sourceGroup": "cli_orders", "tile": "60s", "aggregations": [
            {"function": "AGGREGATION_FUNCTION_COUNT", "windows": ["3600s", "86400s"]},
            {"feature": "amount", "function": "AGGREGATION_FUNCTION_SUM",
             "windows": ["3600s", "86400s"]},
            {"function": "AGGREGATION_FUNCTION_COUNT", "filter": "amount > 100",
             "name": "large_count", "windows": ["3600s"]}]},
    }],
}


def test_apply_an_aggregation_group_backfills_with_progress_then_lookup(target, tmp_path):
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    now = int(time.time() * 1e6)
    csv = tmp_path / "agg.csv"
    csv.write_text("shop_id,event_time,amount\n"
                   f"ag1,{now - 30 * 60 * 10**6},150\n"
                   f"ag1,{now - 2 * HOUR},20.5\n"
                   f"ag2,{now - 3 * HOUR},7\n")
    assert fabrique("features", "ingest", "--group", "cli_orders", *target,
                    str(csv)).returncode == 0

    applied = fabrique("features", "apply", *target,
                       write_json(tmp_path / "aggregates.json", AGGREGATES))
    assert applied.returncode == 0, applied.stderr
    assert ("group cli_order_stats: created (schema v1), features count_1h, count_1d, "
            "amount_sum_1h, amount_sum_1d, large_count_1h\n") in applied.stdout
    assert "group cli_order_stats: backfilled from" in applied.stderr  # cli_orders had history.
    again = fabrique("features", "apply", *target, str(tmp_path / "aggregates.json"))
    assert again.returncode == 0, again.stderr
    assert "group cli_order_stats: unchanged (schema v1)" in again.stdout

    features = "cli_order_stats:count_1h,cli_order_stats:amount_sum_1d,cli_orders:amount"
    table = fabrique("features", "lookup", "--features", features, "--keys", "ag1,ag2,nobody",
                     *target)
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()]
    assert rows[0] == ["KEY", "FEATURE", "VALUE", "STATUS"]
    assert rows[1:] == [
        ["ag1", "cli_order_stats:count_1h", "1", "PRESENT"],
        ["ag1", "cli_order_stats:amount_sum_1d", "170.5", "PRESENT"],
        ["ag1", "cli_orders:amount", "150", "PRESENT"],
        ["ag2", "cli_order_stats:count_1h", "0", "PRESENT"],
        ["ag2", "cli_order_stats:amount_sum_1d", "7", "PRESENT"],
        ["ag2", "cli_orders:amount", "7", "PRESENT"],
        ["nobody", "cli_order_stats:count_1h", "0", "PRESENT"],
        ["nobody", "cli_order_stats:amount_sum_1d", "-", "MISSING"],
        ["nobody", "cli_orders:amount", "-", "MISSING"],
    ]

    # A bare group name means all its features; --json gives null where there is no value.
    as_json = fabrique("features", "lookup", "--features", "cli_order_stats", "--keys",
                       "ag1,nobody", "--entity", "cli_shop", "--json", *target)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)["rows"]
    assert [r["key"] for r in rows] == ["ag1", "nobody"]
    assert set(rows[0]["features"]) == {
        f"cli_order_stats:{n}" for n in ("count_1h", "count_1d", "amount_sum_1h",
                                          "amount_sum_1d", "large_count_1h")}
    assert rows[0]["features"]["cli_order_stats:large_count_1h"] == {"value": 1,
                                                                     "status": "PRESENT"}
    assert rows[0]["features"]["cli_order_stats:amount_sum_1h"]["value"] == 150
    assert rows[1]["features"]["cli_order_stats:amount_sum_1h"] == {"value": None,
                                                                    "status": "MISSING"}


def test_lookup_help_and_failures(target):
    help_ = fabrique("features", "lookup", "--help")
    assert help_.returncode == 0
    for text in ("--features", "--keys", "--entity", "--json", "--target", "PRESENT", "MISSING",
                 "EXPIRED", "Exit codes"):
        assert text in help_.stdout, text
    assert "lookup" in fabrique("features", "--help").stdout

    unknown = fabrique("features", "lookup", "--features", "no_such_group:x", "--keys", "k1",
                       *target)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("fabrique features lookup: ")
    assert "NOT_FOUND" in unknown.stderr and "no_such_group" in unknown.stderr
    bare = fabrique("features", "lookup", "--features", "no_such_group", "--keys", "k1", *target)
    assert bare.returncode == 1 and "NOT_FOUND" in bare.stderr

    # Bad usage: nothing is sent, exit 2 with the reason.
    assert fabrique("features", "lookup", "--keys", "k1", *target).returncode == 2
    no_keys = fabrique("features", "lookup", "--features", "cli_orders:amount", *target)
    assert no_keys.returncode == 2 and "--keys" in no_keys.stderr
    malformed = fabrique("features", "lookup", "--features", "a:b:c", "--keys", "k1", *target)
    assert malformed.returncode == 2 and "'a:b:c' is not GROUP:FEATURE" in malformed.stderr
    assert fabrique("features", "lookup", "--features", "g:f", "--keys", "k", "extra",
                    *target).returncode == 2


def test_an_aggregation_group_the_server_refuses_fails_with_its_reason(target, tmp_path):
    assert fabrique("features", "apply", *target,
                    write_json(tmp_path / "defs.json", DEFINITIONS)).returncode == 0
    bad = json.loads(json.dumps(AGGREGATES))
    bad["feature_groups"][0]["name"] = "cli_bad_stats"
    bad["feature_groups"][0]["aggregation"]["aggregations"][0]["windows"] = ["90s"]
    refused = fabrique("features", "apply", *target, write_json(tmp_path / "bad.json", bad))
    assert refused.returncode == 1
    assert "INVALID_ARGUMENT" in refused.stderr
    assert "90s" in refused.stderr or "1m30s" in refused.stderr, refused.stderr
    assert "0 of 1 definitions applied" in refused.stderr
    missing = json.loads(json.dumps(AGGREGATES))
    missing["feature_groups"][0]["name"] = "cli_orphan_stats"
    missing["feature_groups"][0]["aggregation"]["sourceGroup"] = "no_such_source"
    orphan = fabrique("features", "apply", *target, write_json(tmp_path / "orphan.json", missing))
    assert orphan.returncode == 1 and "no_such_source" in orphan.stderr
