// Aggregation groups through the FeatureStore core: apply errors with their codes; lookups equal
// to a brute-force computation over the raw events, whether the events came in order, shuffled,
// or before the group was applied (backfill); lateness; windows that slide with the clock; empty
// windows; and the bound on tiles read per lookup. Training sets: aggregation_training_test.cc.

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/features/store/aggregation_groups.h"
#include "libs/features/store/feature_store.h"
#include "libs/kv/options.h"
#include "tests/features/store/aggregation_fixture.h"

namespace fabrique::features {
namespace {

TEST_CASE("Aggregation group applies are checked with the right codes", "[aggregation]") {
  Fixture f;
  v1::FeatureGroupSpec spec = Spend();
  spec.mutable_aggregation()->mutable_aggregations(1)->mutable_windows(0)->set_seconds(90);
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kInvalidArgument,
               "window 90s of amount_count is not a whole number of 1m tiles");
  spec = Spend();
  spec.add_features()->set_name("x");
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kInvalidArgument, "leave features empty");
  spec = Spend();
  spec.mutable_aggregation()->set_source_group("nope");
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kNotFound, "source group 'nope'");
  spec = Spend();
  spec.set_entity("merchant");
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kInvalidArgument, "entity");

  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied = f.Apply(Spend());
  REQUIRE(applied.ok());
  REQUIRE(applied->created());
  REQUIRE(applied->group().schema_version() == 1);
  REQUIRE(applied->group().spec().entity() == "customer");
  REQUIRE(applied->group().spec().features(0).name() == "count_10m");
  REQUIRE(applied->group().spec().features(0).type() == v1::FEATURE_TYPE_INT64);
  REQUIRE(applied->group().spec().features(3).name() == "amount_count_10m");
  REQUIRE(applied->group().spec().features(6).name() == "amount_sum_10m");
  REQUIRE(applied->group().spec().features(6).type() == v1::FEATURE_TYPE_DOUBLE);

  // Metadata may change; nothing else.
  spec = Spend();
  spec.set_description("spend per customer");
  applied = f.Apply(spec);
  REQUIRE(applied.ok());
  REQUIRE(applied->group().schema_version() == 1);
  spec.mutable_aggregation()->mutable_aggregations(0)->add_windows()->set_seconds(7200);
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kFailedPrecondition,
               "cannot change once applied");
  spec = Spend();
  spec.clear_aggregation();
  spec.add_features()->set_name("x");
  spec.mutable_features(0)->set_type(v1::FEATURE_TYPE_INT64);
  spec.set_entity("customer");
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kFailedPrecondition,
               "is an aggregation group");
  // A plain group never becomes one.
  spec = Spend();
  spec.set_name("payments");
  REQUIRE_CODE(f.Apply(spec).status(), absl::StatusCode::kFailedPrecondition,
               "is a plain feature group");
}

TEST_CASE("Rows are never ingested into an aggregation group nor read as history",
          "[aggregation]") {
  Fixture f;
  REQUIRE(f.Apply(Spend()).ok());
  REQUIRE_CODE(f.Ingest({{"c0", kStart, 1}}, "spend").status(),
               absl::StatusCode::kFailedPrecondition, "ingest into its source 'payments'");
  v1::ReadHistoryRequest read;
  read.set_group("spend");
  REQUIRE_CODE(
      f.store->ReadHistory(read, [](v1::ReadHistoryResponse*) { return absl::OkStatus(); }),
      absl::StatusCode::kFailedPrecondition, "has no history");
}

TEST_CASE("Lookups equal brute force whether events came in order, shuffled or before apply",
          "[aggregation]") {
  std::mt19937_64 rng(42);
  const std::vector<Event> events = RandomEvents(rng, 400);
  std::vector<Event> sorted = events;
  std::sort(sorted.begin(), sorted.end(),
            [](const Event& a, const Event& b) { return a.time < b.time; });

  Fixture in_order, shuffled, backfilled;
  REQUIRE(in_order.Apply(Spend()).ok());
  REQUIRE(shuffled.Apply(Spend()).ok());
  for (size_t i = 0; i < sorted.size(); i += 37) {
    std::vector<Event> batch(sorted.begin() + i, sorted.begin() + std::min(sorted.size(), i + 37));
    REQUIRE(in_order.Ingest(batch).ok());
  }
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<Event> batch(events.begin() + i, events.begin() + std::min(events.size(), i + 50));
    REQUIRE(shuffled.Ingest(batch).ok());
  }
  REQUIRE(backfilled.Ingest(events).ok());
  std::vector<v1::AggregationBackfillProgress> reports;
  REQUIRE(
      backfilled
          .Apply(Spend(), [&](const v1::AggregationBackfillProgress& p) { reports.push_back(p); })
          .ok());
  REQUIRE_FALSE(reports.empty());
  REQUIRE(reports.back().rows_scanned() == static_cast<int64_t>(events.size()));
  REQUIRE(reports.back().entities() == 3);

  // The windows slide with the clock, with no write.
  for (int64_t advance : {int64_t{0}, 7 * kMinute + 13'000'000, 45 * kMinute, 23 * 60 * kMinute}) {
    for (Fixture* f : {&in_order, &shuffled, &backfilled}) {
      f->clock.Set(absl::FromUnixMicros(kStart + advance));
      RequireLookupMatches(*f, events);
    }
  }
}

TEST_CASE("A backfill written in many batches, entity by entity, equals brute force",
          "[aggregation]") {
  // c0 alone fills more than one history chunk (4096 rows); c1 and c2 share chunks with it; and
  // a write every few rows splits the scan at every chunk, between entities only.
  std::mt19937_64 rng(7);
  std::vector<Event> events;
  std::map<std::pair<std::string, int64_t>, bool> seen;
  for (const auto& [entity, n] :
       {std::pair<std::string, int>{"c0", 5000}, {"c1", 3000}, {"c2", 2000}}) {
    for (int added = 0; added < n;) {
      Event e;
      e.entity = entity;
      e.time = kStart - static_cast<int64_t>(rng() % (2 * 1440 * kMinute));
      if (!seen.emplace(std::make_pair(e.entity, e.time), true).second) continue;
      if (rng() % 10 != 0) e.amount = static_cast<int64_t>(rng() % 2001) - 1000;
      events.push_back(e);
      ++added;
    }
  }
  std::shuffle(events.begin(), events.end(), rng);
  Fixture f;
  REQUIRE(f.Ingest(events).ok());

  auto history = HistoryReader::Create({f.kv.get()});
  REQUIRE(history.ok());
  AggregationGroupsOptions options;
  options.store = f.kv.get();
  options.catalog = &f.store->catalog();
  options.history = history->get();
  options.clock = &f.clock;
  options.backfill_batch_rows = 5;
  auto groups = AggregationGroups::Create(options);
  REQUIRE(groups.ok());
  v1::ApplyFeatureGroupRequest request;
  *request.mutable_spec() = Spend();
  int reports = 0;
  auto applied =
      (*groups)->Apply(request, {}, [&](const v1::AggregationBackfillProgress& p) { ++reports; });
  REQUIRE(applied.has_value());
  REQUIRE(applied->ok());
  REQUIRE(reports >= 2);

  // A store opened now plans the group from the catalog and reads the tiles written above.
  f.store.reset();
  auto reopened = FeatureStore::Create({f.kv.get(), &f.clock, f.retention});
  REQUIRE(reopened.ok());
  f.store = *std::move(reopened);
  for (int64_t advance : {int64_t{0}, 7 * kMinute + 13'000'000, 23 * 60 * kMinute}) {
    f.clock.Set(absl::FromUnixMicros(kStart + advance));
    RequireLookupMatches(f, events);
  }
}

TEST_CASE("A filter leaves out rows where it is false or null, online and in training sets",
          "[aggregation]") {
  Fixture f;
  v1::FeatureGroupSpec spec;
  spec.set_name("refunds");
  spec.mutable_aggregation()->set_source_group("payments");
  AddAggregation(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60})->set_filter("amount < 0");
  AddAggregation(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {60})->set_filter("amount < 0");
  REQUIRE(f.Ingest({{"c0", kStart - 3 * kMinute, -5},
                    {"c0", kStart - 2 * kMinute, 7},
                    {"c0", kStart - kMinute, std::nullopt},
                    {"c0", kStart - 30 * kMinute, -2}})
              .ok());
  REQUIRE(f.Apply(spec).ok());  // Backfilled.
  REQUIRE(f.Ingest({{"c0", kStart, -1}}).ok());
  absl::StatusOr<v1::LookupOnlineResponse> response =
      f.Lookup({"refunds:amount_sum_1h", "refunds:count_1h"}, {"c0"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().double_values().values(0) == -8);
  REQUIRE(response->columns(1).values().int64_values().values(0) == 3);
  v1::FeatureGroupSpec bad = spec;
  bad.set_name("bad");
  bad.mutable_aggregation()->mutable_aggregations(0)->set_filter("amount <");
  REQUIRE_CODE(f.Apply(bad).status(), absl::StatusCode::kInvalidArgument, "position");
}

TEST_CASE("Rows repeated in a batch count once, and bulk batches feed the tiles too",
          "[aggregation]") {
  Fixture f;
  REQUIRE(f.Apply(Spend()).ok());
  const std::vector<Event> rows = {{"c0", kStart - kMinute, 4}, {"c0", kStart - 2 * kMinute, 6}};
  REQUIRE(f.Ingest({rows[0], rows[1], rows[0], rows[0]}).ok());
  v1::IngestRequest bulk;
  bulk.set_group("payments");
  bulk.set_bulk(true);
  bulk.mutable_rows()->add_entity_keys("c0");
  bulk.mutable_rows()->add_event_time_unix_micros(kStart - 3 * kMinute);
  v1::FeatureColumn* amount = bulk.mutable_rows()->add_columns();
  amount->mutable_feature()->set_feature("amount");
  amount->mutable_values()->mutable_int64_values()->add_values(5);
  absl::StatusOr<v1::IngestBatchResult> loaded = f.store->Ingest(bulk);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->rows_written() == 1);
  absl::StatusOr<v1::LookupOnlineResponse> response =
      f.Lookup({"spend:count_10m", "spend:amount_sum_10m"}, {"c0"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 3);
  REQUIRE(response->columns(1).values().double_values().values(0) == 15);
}

TEST_CASE("A backfill clears the tiles an earlier, unfinished apply left", "[aggregation]") {
  Fixture f;
  REQUIRE(f.Ingest({{"c0", kStart - 5 * kMinute, 7}}).ok());
  // Tiles of "spend" that no catalog entry accounts for, as an apply that died mid-backfill
  // leaves them: of an entity with history and of one without.
  kv::ColumnFamily tiles = *f.kv->Family("tiles");
  for (const char* entity : {"c0", "c9"}) {
    TileState stray(std::vector<uint8_t>{kAllSlotFields});
    stray.slot(0).Add(kStart - kMinute, 1000);
    kv::WriteBatch batch;
    batch.Put(tiles, TileKey("spend", entity, 0, (kStart - kMinute) / kMinute), stray.Encode());
    REQUIRE(f.kv->Write(batch).ok());
  }
  REQUIRE(f.Apply(Spend()).ok());
  absl::StatusOr<v1::LookupOnlineResponse> response =
      f.Lookup({"spend:count_10m", "spend:amount_sum_10m"}, {"c0", "c9"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 1);
  REQUIRE(response->columns(0).values().int64_values().values(1) == 0);
  REQUIRE(response->columns(1).values().double_values().values(0) == 7);
  REQUIRE(response->columns(1).statuses(1) == v1::VALUE_STATUS_MISSING);
}

TEST_CASE("An empty window counts 0 and leaves the rest missing", "[aggregation]") {
  Fixture f;
  REQUIRE(f.Apply(Spend()).ok());
  REQUIRE(f.Ingest({{"c0", kStart - 5 * kMinute, 7}}).ok());
  absl::StatusOr<v1::LookupOnlineResponse> response =
      f.Lookup({"spend:count_10m", "spend:amount_sum_10m", "payments:amount"}, {"c0", "zz"}, true);
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 1);
  REQUIRE(response->columns(0).values().int64_values().values(1) == 0);
  REQUIRE(response->columns(0).statuses(1) == v1::VALUE_STATUS_PRESENT);
  REQUIRE(response->columns(1).statuses(0) == v1::VALUE_STATUS_PRESENT);
  REQUIRE(response->columns(1).values().double_values().values(0) == 7);
  REQUIRE(response->columns(1).statuses(1) == v1::VALUE_STATUS_MISSING);
  REQUIRE(response->columns(0).event_time_unix_micros(0) == kStart);
  REQUIRE(response->columns(0).schema_version() == 1);
  // The plain feature keeps its place and its own event time.
  REQUIRE(response->columns(2).feature().group() == "payments");
  REQUIRE(response->columns(2).values().int64_values().values(0) == 7);
  REQUIRE(response->columns(2).event_time_unix_micros(0) == kStart - 5 * kMinute);
  // Ten minutes later the event has left the 10m window, but not the 1h one.
  f.clock.Advance(absl::Minutes(16));
  response = f.Lookup({"spend:count_10m", "spend:amount_sum_10m", "spend:amount_sum_1h"}, {"c0"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 0);
  REQUIRE(response->columns(1).statuses(0) == v1::VALUE_STATUS_MISSING);
  REQUIRE(response->columns(2).values().double_values().values(0) == 7);
  REQUIRE_CODE(f.Lookup({"spend:amount_sum_2h"}, {"c0"}).status(), absl::StatusCode::kNotFound,
               "spend:amount_sum_2h");
}

TEST_CASE("Rows later than the lateness bound are rejected whole", "[aggregation]") {
  Fixture f;
  v1::FeatureGroupSpec spec = Spend();
  spec.mutable_aggregation()->mutable_lateness()->set_seconds(600);
  REQUIRE(f.Apply(spec).ok());
  absl::StatusOr<v1::IngestBatchResult> result =
      f.Ingest({{"c0", kStart - 5 * kMinute, 1}, {"c0", kStart - 20 * kMinute, 2}});
  REQUIRE(result.ok());
  REQUIRE(result->rows_written() == 1);
  REQUIRE(result->rows_rejected() == 1);
  REQUIRE(result->rejects_size() == 1);
  REQUIRE(result->rejects(0).row_index() == 1);
  REQUIRE(result->rejects(0).reason() == v1::REJECT_REASON_TOO_LATE);
  REQUIRE(absl::StrContains(result->rejects(0).message(), "'spend'"));
  REQUIRE(absl::StrContains(result->rejects(0).message(), "10m"));
  REQUIRE(result->reject_counts(0).reason() == v1::REJECT_REASON_TOO_LATE);
  // Not written to the source either.
  int64_t history_rows = 0;
  v1::ReadHistoryRequest read;
  read.set_group("payments");
  REQUIRE(f.store
              ->ReadHistory(read,
                            [&](v1::ReadHistoryResponse* chunk) {
                              history_rows += chunk->rows().entity_keys_size();
                              return absl::OkStatus();
                            })
              .ok());
  REQUIRE(history_rows == 1);
  absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup({"spend:count_1h"}, {"c0"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 1);
}

TEST_CASE("A lookup reads a bounded number of tiles whatever the window", "[aggregation]") {
  Fixture f;
  v1::FeatureGroupSpec spec;
  spec.set_name("weekly");
  spec.mutable_aggregation()->set_source_group("payments");
  AddAggregation(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {7 * 1440});
  REQUIRE(f.Apply(spec).ok());
  std::vector<Event> events;
  for (int i = 0; i < 2000; ++i) events.push_back({"c0", kStart - i * 5 * kMinute, 1});
  REQUIRE(f.Ingest(events).ok());
  f.clock.Advance(absl::Seconds(17));
  const int64_t before = f.store->aggregations().tiles().tiles_read();
  absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup({"weekly:amount_sum_7d"}, {"c0"});
  REQUIRE(response.ok());
  const int64_t read = f.store->aggregations().tiles().tiles_read() - before;
  // 10,081 one-minute tiles, read as at most 2 x 15 per level below the top plus 17 at the top.
  INFO("tiles read: " << read);
  REQUIRE(read <= 2 * 15 * 3 + 17);
  REQUIRE(response->columns(0).values().double_values().values(0) == 2000);
}

TEST_CASE("A memory-only lookup of tiles on disk says so, and reads them once cached",
          "[aggregation]") {
  // Cached in RocksDB's block cache, or in the tile cache too.
  const size_t tile_cache_bytes = GENERATE(size_t{0}, FeatureStoreOptions().tile_cache_bytes);
  INFO("tile cache bytes " << tile_cache_bytes);
  Fixture f(tile_cache_bytes);
  REQUIRE(f.Apply(Spend()).ok());
  REQUIRE(f.Ingest({{"c0", kStart - 5 * kMinute, 7},
                    {"c0", kStart - 50 * kMinute, 2},
                    {"c1", kStart - kMinute, 3}})
              .ok());
  REQUIRE(f.kv->Flush().ok());
  v1::LookupOnlineRequest request;
  for (const char* name : {"amount_sum_10m", "amount_sum_1h", "count_1h"}) {
    v1::FeatureRef* ref = request.add_features();
    ref->set_group("spend");
    ref->set_feature(name);
  }
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->add_keys("c0");
  keys->add_keys("c1");
  v1::LookupOnlineResponse response;
  // The tiles are in a file none of whose blocks is cached yet.
  const absl::Status cold = f.store->LookupOnline(request, &response, /*memory_only=*/true);
  INFO(cold);
  REQUIRE(kv::IsNotInMemory(cold));
  REQUIRE(f.store->LookupOnline(request, &response, /*memory_only=*/false).ok());
  REQUIRE(f.store->LookupOnline(request, &response, /*memory_only=*/true).ok());
  REQUIRE(response.columns(0).values().double_values().values(0) == 7);
  REQUIRE(response.columns(0).values().double_values().values(1) == 3);
  REQUIRE(response.columns(1).values().double_values().values(0) == 9);
  REQUIRE(response.columns(2).values().int64_values().values(0) == 2);
  REQUIRE(response.columns(2).values().int64_values().values(1) == 1);
}

}  // namespace
}  // namespace fabrique::features
