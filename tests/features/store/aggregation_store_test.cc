// Aggregation groups through the FeatureStore core: apply errors with their codes; lookups and
// training sets equal to a brute-force computation over the raw events, whether the events came
// in order, shuffled, or before the group was applied (backfill); lateness; windows that slide
// with the clock; empty windows; and the bound on tiles read per lookup.

#include <algorithm>
#include <cmath>
#include <map>
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
#include "libs/features/store/aggregation_training.h"
#include "libs/features/store/feature_store.h"
#include "libs/features/store/training_set_build.h"
#include "libs/kv/options.h"

namespace fabrique::features {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kStart = 1'700'000'000'000'000;  // Micros; a whole number of days.

#define REQUIRE_CODE(expr, expected_code, text)            \
  do {                                                     \
    const absl::Status status_ = (expr);                   \
    INFO(status_.ToString());                              \
    REQUIRE(status_.code() == (expected_code));            \
    REQUIRE(absl::StrContains(status_.message(), (text))); \
  } while (0)

struct Event {
  std::string entity;
  int64_t time;
  std::optional<int64_t> amount;  // Null when unset.
};

// An in-memory feature store with a fake clock, an entity "customer" and a source "payments".
struct Fixture {
  core::FakeClock clock{absl::FromUnixMicros(kStart)};
  std::shared_ptr<RetentionPolicies> retention = std::make_shared<RetentionPolicies>();
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<FeatureStore> store;

  Fixture() {
    kv::StoreOptions options;
    options.path = "/features";
    options.in_memory = true;
    FeatureStore::ConfigureStore(&options, &clock, retention);
    kv = *kv::Store::Open(options);
    auto created = FeatureStore::Create({kv.get(), &clock, retention});
    REQUIRE(created.ok());
    store = *std::move(created);
    v1::Entity customer;
    customer.set_name("customer");
    customer.set_join_key("customer_id");
    REQUIRE(store->catalog().ApplyEntity(customer).ok());
    v1::ApplyFeatureGroupRequest source;
    source.mutable_spec()->set_name("payments");
    source.mutable_spec()->set_entity("customer");
    v1::FeatureSpec* amount = source.mutable_spec()->add_features();
    amount->set_name("amount");
    amount->set_type(v1::FEATURE_TYPE_INT64);
    REQUIRE(store->ApplyFeatureGroup(source, {}).ok());
  }

  absl::StatusOr<v1::ApplyFeatureGroupResponse> Apply(const v1::FeatureGroupSpec& spec,
                                                      const BackfillProgress& progress = nullptr) {
    v1::ApplyFeatureGroupRequest request;
    *request.mutable_spec() = spec;
    return store->ApplyFeatureGroup(request, {}, progress);
  }

  absl::StatusOr<v1::IngestBatchResult> Ingest(const std::vector<Event>& events,
                                               const std::string& group = "payments") {
    v1::IngestRequest request;
    request.set_group(group);
    v1::RowBatch* rows = request.mutable_rows();
    v1::FeatureColumn* amount = rows->add_columns();
    amount->mutable_feature()->set_feature("amount");
    bool nulls = false;
    for (const Event& e : events) nulls = nulls || !e.amount.has_value();
    for (const Event& e : events) {
      rows->add_entity_keys(e.entity);
      rows->add_event_time_unix_micros(e.time);
      amount->mutable_values()->mutable_int64_values()->add_values(e.amount.value_or(0));
      if (nulls) amount->mutable_values()->add_is_null(!e.amount.has_value());
    }
    return store->Ingest(request);
  }

  absl::StatusOr<v1::LookupOnlineResponse> Lookup(const std::vector<std::string>& features,
                                                  const std::vector<std::string>& entities,
                                                  bool with_times = false) {
    v1::LookupOnlineRequest request;
    for (const std::string& f : features) {
      v1::FeatureRef* ref = request.add_features();
      const size_t colon = f.find(':');
      ref->set_group(f.substr(0, colon));
      ref->set_feature(f.substr(colon + 1));
    }
    v1::EntityKeys* keys = request.add_entity_keys();
    for (const std::string& e : entities) keys->add_keys(e);
    request.set_include_event_times(with_times);
    v1::LookupOnlineResponse response;
    absl::Status status = store->LookupOnline(request, &response);
    if (!status.ok()) return status;
    return response;
  }
};

v1::Aggregation* AddAggregation(v1::FeatureGroupSpec* spec, const char* feature,
                                v1::AggregationFunction function,
                                std::initializer_list<int64_t> minutes) {
  v1::Aggregation* a = spec->mutable_aggregation()->add_aggregations();
  a->set_feature(feature);
  a->set_function(function);
  for (int64_t m : minutes) a->add_windows()->set_seconds(m * 60);
  return a;
}

// "spend": every function over 10m, 1h and 1d of payments' amount, and a row count.
v1::FeatureGroupSpec Spend() {
  v1::FeatureGroupSpec spec;
  spec.set_name("spend");
  spec.mutable_aggregation()->set_source_group("payments");
  AddAggregation(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {10, 60, 1440});
  for (auto f :
       {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM, v1::AGGREGATION_FUNCTION_MEAN,
        v1::AGGREGATION_FUNCTION_MIN, v1::AGGREGATION_FUNCTION_MAX, v1::AGGREGATION_FUNCTION_STDDEV,
        v1::AGGREGATION_FUNCTION_LAST}) {
    AddAggregation(&spec, "amount", f, {10, 60, 1440});
  }
  return spec;
}

// The brute-force value of `function` over the events of `entity` in [S - k d, T].
std::optional<double> BruteForce(const std::vector<Event>& events, const std::string& entity,
                                 int64_t as_of, int64_t k, v1::AggregationFunction function,
                                 bool rows) {
  const int64_t s = (as_of >= 0 ? as_of / kMinute : (as_of - kMinute + 1) / kMinute) * kMinute;
  std::vector<std::pair<int64_t, double>> values;
  for (const Event& e : events) {
    if (e.entity != entity || e.time < s - k * kMinute || e.time > as_of) continue;
    if (rows) {
      values.push_back({e.time, 1});
    } else if (e.amount.has_value()) {
      values.push_back({e.time, static_cast<double>(*e.amount)});
    }
  }
  if (function == v1::AGGREGATION_FUNCTION_COUNT) return static_cast<double>(values.size());
  if (values.empty()) return std::nullopt;
  double sum = 0, mn = values[0].second, mx = values[0].second;
  std::pair<int64_t, double> last = values[0];
  for (const auto& [t, v] : values) {
    sum += v;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    if (t > last.first) last = {t, v};
  }
  const double n = static_cast<double>(values.size());
  switch (function) {
    case v1::AGGREGATION_FUNCTION_SUM:
      return sum;
    case v1::AGGREGATION_FUNCTION_MEAN:
      return sum / n;
    case v1::AGGREGATION_FUNCTION_MIN:
      return mn;
    case v1::AGGREGATION_FUNCTION_MAX:
      return mx;
    case v1::AGGREGATION_FUNCTION_LAST:
      return last.second;
    case v1::AGGREGATION_FUNCTION_STDDEV: {
      if (values.size() < 2) return std::nullopt;
      double ss = 0;
      for (const auto& [t, v] : values) ss += (v - sum / n) * (v - sum / n);
      return std::sqrt(ss / (n - 1));
    }
    default:
      return std::nullopt;
  }
}

void RequireSame(std::optional<double> got, std::optional<double> want,
                 v1::AggregationFunction function) {
  REQUIRE(got.has_value() == want.has_value());
  if (!got.has_value()) return;
  if (function == v1::AGGREGATION_FUNCTION_MEAN || function == v1::AGGREGATION_FUNCTION_STDDEV) {
    REQUIRE(*got == Approx(*want).epsilon(1e-9).margin(1e-12));
  } else {
    REQUIRE(*got == *want);
  }
}

// Events of 3 customers over two days, distinct times per customer, integer amounts, some null.
std::vector<Event> RandomEvents(std::mt19937_64& rng, int n) {
  std::vector<Event> events;
  std::map<std::pair<std::string, int64_t>, bool> seen;
  while (static_cast<int>(events.size()) < n) {
    Event e;
    e.entity = "c" + std::to_string(rng() % 3);
    // Clustered in the last hours so that every window holds something.
    const int64_t back = rng() % 4 == 0 ? static_cast<int64_t>(rng() % (2 * 1440 * kMinute))
                                        : static_cast<int64_t>(rng() % (90 * kMinute));
    e.time = kStart - back;
    if (!seen.emplace(std::make_pair(e.entity, e.time), true).second) continue;
    if (rng() % 10 != 0) e.amount = static_cast<int64_t>(rng() % 2001) - 1000;
    events.push_back(e);
  }
  return events;
}

// Every output of Spend() for c0..c3 (c3 has no events) at the fixture's clock, against brute
// force over `events`.
void RequireLookupMatches(Fixture& f, const std::vector<Event>& events) {
  const std::shared_ptr<const AggregationPlan> plan = f.store->aggregations().PlanOf("spend");
  REQUIRE(plan != nullptr);
  std::vector<std::string> names;
  std::vector<std::pair<int, int>> outputs;
  for (const v1::FeatureSpec& out : plan->OutputFeatures()) {
    names.push_back("spend:" + out.name());
    outputs.push_back(*plan->FindOutput(out.name()));
  }
  const std::vector<std::string> entities = {"c0", "c1", "c2", "c3"};
  absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup(names, entities);
  REQUIRE(response.ok());
  REQUIRE(response->columns_size() == static_cast<int>(names.size()));
  const int64_t now = absl::ToUnixMicros(f.clock.Now());
  for (size_t o = 0; o < names.size(); ++o) {
    const v1::OnlineFeatureColumn& column = response->columns(o);
    const PlannedAggregation& a = plan->aggregations()[outputs[o].first];
    for (size_t e = 0; e < entities.size(); ++e) {
      INFO(names[o] << " " << entities[e]);
      std::optional<double> got;
      if (column.statuses(e) == v1::VALUE_STATUS_PRESENT) {
        got = a.function == v1::AGGREGATION_FUNCTION_COUNT
                  ? static_cast<double>(column.values().int64_values().values(e))
                  : column.values().double_values().values(e);
      } else {
        REQUIRE(column.statuses(e) == v1::VALUE_STATUS_MISSING);
      }
      RequireSame(got,
                  BruteForce(events, entities[e], now, a.window_tiles[outputs[o].second],
                             a.function, a.feature.empty()),
                  a.function);
    }
  }
}

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

TEST_CASE("Training sets equal brute force at each label's time, in order, shuffled or backfilled",
          "[aggregation]") {
  std::mt19937_64 rng(5);
  const std::vector<Event> events = RandomEvents(rng, 300);
  Fixture shuffled, backfilled;
  REQUIRE(shuffled.Apply(Spend()).ok());
  for (size_t i = 0; i < events.size(); i += 40) {
    std::vector<Event> batch(events.begin() + i, events.begin() + std::min(events.size(), i + 40));
    REQUIRE(shuffled.Ingest(batch).ok());
  }
  REQUIRE(backfilled.Ingest(events).ok());
  REQUIRE(backfilled.Apply(Spend()).ok());

  // Labels at random times around the events, some exactly on an event, for c0..c3.
  v1::LabelEventBatch labels;
  v1::EntityKeys* keys = labels.add_entity_keys();
  keys->set_entity("customer");
  for (int i = 0; i < 200; ++i) {
    keys->add_keys("c" + std::to_string(rng() % 4));
    const int64_t t = i % 10 == 0 ? events[rng() % events.size()].time
                                  : kStart - static_cast<int64_t>(rng() % (3 * 1440 * kMinute));
    labels.add_event_time_unix_micros(t);
    labels.mutable_labels()->mutable_int64_values()->add_values(i);
  }
  const std::shared_ptr<const AggregationPlan> plan =
      shuffled.store->aggregations().PlanOf("spend");
  REQUIRE(plan != nullptr);
  v1::TrainingSetSpec spec;
  spec.mutable_label()->mutable_events();
  spec.set_chunk_rows(64);
  std::vector<std::pair<int, int>> outputs;
  for (const v1::FeatureSpec& out : plan->OutputFeatures()) {
    v1::FeatureRef* ref = spec.add_features();
    ref->set_group("spend");
    ref->set_feature(out.name());
    outputs.push_back(*plan->FindOutput(out.name()));
  }
  v1::FeatureRef* plain = spec.add_features();
  plain->set_group("payments");
  plain->set_feature("amount");

  // The last build adds the labels in several batches, each announced to the aggregation
  // columns before the join takes it, with chunks that straddle them.
  std::vector<v1::LabelEventBatch> batches;
  for (int begin = 0; begin < 200; begin += 50) {
    v1::LabelEventBatch& batch = batches.emplace_back();
    v1::EntityKeys* batch_keys = batch.add_entity_keys();
    batch_keys->set_entity("customer");
    for (int i = begin; i < begin + 50; ++i) {
      batch_keys->add_keys(keys->keys(i));
      batch.add_event_time_unix_micros(labels.event_time_unix_micros(i));
      batch.mutable_labels()->mutable_int64_values()->add_values(i);
    }
  }

  std::vector<std::string> hashes;
  for (Fixture* f : {&shuffled, &backfilled, &backfilled, &backfilled}) {
    // The same rows whatever the chunk size: the content hash, aggregation values included, too.
    const bool in_batches = hashes.size() == 3;
    spec.set_chunk_rows(hashes.empty() ? 64 : hashes.size() == 1 ? 7 : in_batches ? 30 : 4096);
    std::vector<v1::TrainingSetRows> chunks;
    auto build =
        TrainingSetBuild::Start(*f->store, spec, {}, [&](v1::BuildTrainingSetResponse* response) {
          if (response->has_rows()) {
            chunks.push_back(response->rows());
          }
          return absl::OkStatus();
        });
    REQUIRE(build.ok());
    if (in_batches) {
      for (const v1::LabelEventBatch& batch : batches) REQUIRE((*build)->AddEvents(batch).ok());
    } else {
      REQUIRE((*build)->AddEvents(labels).ok());
    }
    absl::StatusOr<v1::Dataset> dataset = (*build)->Finish();
    REQUIRE(dataset.ok());
    REQUIRE(dataset->row_count() == 200);
    hashes.push_back(dataset->content_sha256());
    int64_t seen = 0;
    for (const v1::TrainingSetRows& chunk : chunks) {
      REQUIRE(chunk.features_size() == static_cast<int>(outputs.size()) + 1);
      for (int r = 0; r < chunk.event_time_unix_micros_size(); ++r, ++seen) {
        const std::string& entity = chunk.entity_keys(0).keys(r);
        const int64_t t = chunk.event_time_unix_micros(r);
        for (size_t o = 0; o < outputs.size(); ++o) {
          const PlannedAggregation& a = plan->aggregations()[outputs[o].first];
          const v1::ValueColumn& column = chunk.features(o).values();
          INFO(chunk.features(o).feature().feature() << " " << entity << " at " << t);
          std::optional<double> got;
          if (column.is_null_size() == 0 || !column.is_null(r)) {
            got = a.function == v1::AGGREGATION_FUNCTION_COUNT
                      ? static_cast<double>(column.int64_values().values(r))
                      : column.double_values().values(r);
          }
          RequireSame(got,
                      BruteForce(events, entity, t, a.window_tiles[outputs[o].second], a.function,
                                 a.feature.empty()),
                      a.function);
        }
      }
    }
    REQUIRE(seen == 200);
  }
  REQUIRE(hashes[0] == hashes[1]);
  REQUIRE(hashes[1] == hashes[2]);
  REQUIRE(hashes[2] == hashes[3]);

  // Chunks whose labels were not announced, or not in order, are computed alone, to the same
  // values.
  auto fill = [&](bool announce, int begin, int end, v1::TrainingSetRows* rows) {
    v1::EntityKeys* row_keys = rows->add_entity_keys();
    row_keys->set_entity("customer");
    for (int i = begin; i < end; ++i) {
      row_keys->add_keys(keys->keys(i));
      rows->add_event_time_unix_micros(labels.event_time_unix_micros(i));
    }
    for (int o = 0; o < static_cast<int>(outputs.size()) + 1; ++o) rows->add_features();
    auto columns = AggregationColumns::Create(
        *backfilled.store, *backfilled.store->catalog().Snapshot(), spec.features());
    REQUIRE(columns.ok());
    REQUIRE(*columns != nullptr);
    if (announce) (*columns)->Expect(labels);
    REQUIRE((*columns)->Fill(rows).ok());
  };
  v1::TrainingSetRows announced, alone, out_of_order;
  fill(true, 0, 120, &announced);
  fill(false, 0, 120, &alone);
  fill(true, 10, 120, &out_of_order);
  for (size_t o = 0; o < outputs.size(); ++o) {
    INFO(o);
    REQUIRE(announced.features(o).values().SerializeAsString() ==
            alone.features(o).values().SerializeAsString());
    v1::TrainingSetRows tail;
    fill(false, 10, 120, &tail);
    REQUIRE(out_of_order.features(o).values().SerializeAsString() ==
            tail.features(o).values().SerializeAsString());
  }
}

TEST_CASE("Training-set aggregates read by several threads equal one thread's and brute force",
          "[aggregation]") {
  // 300 customers and 13,000 labels: enough for three runs of at least 4Ki labels, so three
  // readers share the snapshot, each over its own entities.
  std::mt19937_64 rng(11);
  std::vector<Event> events;
  for (int c = 0; c < 300; ++c) {
    for (int i = 0; i < 20; ++i) {
      events.push_back({"k" + std::to_string(c),
                        kStart - (c * 7 + i * 37) % (2 * 1440) * kMinute - i * 1000,
                        static_cast<int64_t>(rng() % 1001) - 500});
    }
  }
  Fixture f;
  REQUIRE(f.Ingest(events).ok());
  REQUIRE(f.Apply(Spend()).ok());
  v1::TrainingSetSpec spec;
  const std::shared_ptr<const AggregationPlan> plan = f.store->aggregations().PlanOf("spend");
  REQUIRE(plan != nullptr);
  std::vector<std::pair<int, int>> outputs;
  for (const v1::FeatureSpec& out : plan->OutputFeatures()) {
    v1::FeatureRef* ref = spec.add_features();
    ref->set_group("spend");
    ref->set_feature(out.name());
    outputs.push_back(*plan->FindOutput(out.name()));
  }
  constexpr int kLabels = 13'000;
  v1::TrainingSetRows rows;
  v1::EntityKeys* keys = rows.add_entity_keys();
  keys->set_entity("customer");
  for (int i = 0; i < kLabels; ++i) {
    keys->add_keys("k" + std::to_string(rng() % 310));  // k300..k309 have no events.
    rows.add_event_time_unix_micros(kStart - static_cast<int64_t>(rng() % (3 * 1440 * kMinute)));
  }
  for (size_t o = 0; o < outputs.size(); ++o) rows.add_features();
  const std::shared_ptr<const CatalogState> catalog = f.store->catalog().Snapshot();
  std::vector<v1::TrainingSetRows> filled;
  for (int threads : {1, 3}) {
    auto columns = AggregationColumns::Create(*f.store, *catalog, spec.features(), threads);
    REQUIRE(columns.ok());
    REQUIRE((*columns)->threads() == threads);
    REQUIRE((*columns)->Fill(&filled.emplace_back(rows)).ok());
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    INFO(spec.features(o).feature());
    REQUIRE(filled[0].features(o).values().SerializeAsString() ==
            filled[1].features(o).values().SerializeAsString());
  }
  // A sample of labels against brute force.
  for (int r = 0; r < kLabels; r += 97) {
    for (size_t o = 0; o < outputs.size(); ++o) {
      const PlannedAggregation& a = plan->aggregations()[outputs[o].first];
      const v1::ValueColumn& column = filled[1].features(o).values();
      std::optional<double> got;
      if (column.is_null_size() == 0 || !column.is_null(r)) {
        got = a.function == v1::AGGREGATION_FUNCTION_COUNT
                  ? static_cast<double>(column.int64_values().values(r))
                  : column.double_values().values(r);
      }
      INFO(spec.features(o).feature()
           << " " << keys->keys(r) << " at " << rows.event_time_unix_micros(r));
      RequireSame(got,
                  BruteForce(events, keys->keys(r), rows.event_time_unix_micros(r),
                             a.window_tiles[outputs[o].second], a.function, a.feature.empty()),
                  a.function);
    }
  }
  // The default is the usable CPUs, at most 4; a negative count is refused.
  auto defaulted = AggregationColumns::Create(*f.store, *catalog, spec.features());
  REQUIRE(defaulted.ok());
  REQUIRE((*defaulted)->threads() >= 1);
  REQUIRE((*defaulted)->threads() <= 4);
  REQUIRE_CODE(AggregationColumns::Create(*f.store, *catalog, spec.features(), -1).status(),
               absl::StatusCode::kInvalidArgument, "threads");
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

TEST_CASE("Training-set aggregates of FLOAT, BOOL and filtered inputs equal the online values",
          "[aggregation]") {
  Fixture f;
  v1::ApplyFeatureGroupRequest source;
  source.mutable_spec()->set_name("visits");
  source.mutable_spec()->set_entity("customer");
  for (auto [name, type] :
       {std::pair{"score", v1::FEATURE_TYPE_FLOAT}, std::pair{"flagged", v1::FEATURE_TYPE_BOOL},
        std::pair{"amount", v1::FEATURE_TYPE_INT64}}) {
    v1::FeatureSpec* feature = source.mutable_spec()->add_features();
    feature->set_name(name);
    feature->set_type(type);
  }
  REQUIRE(f.store->ApplyFeatureGroup(source, {}).ok());
  v1::IngestRequest ingest;
  ingest.set_group("visits");
  v1::RowBatch* rows = ingest.mutable_rows();
  v1::ValueColumn* score = rows->add_columns()->mutable_values();
  rows->mutable_columns(0)->mutable_feature()->set_feature("score");
  v1::ValueColumn* flagged = rows->add_columns()->mutable_values();
  rows->mutable_columns(1)->mutable_feature()->set_feature("flagged");
  v1::ValueColumn* amount = rows->add_columns()->mutable_values();
  rows->mutable_columns(2)->mutable_feature()->set_feature("amount");
  for (int i = 0; i < 40; ++i) {
    rows->add_entity_keys(i % 2 == 0 ? "c0" : "c1");
    rows->add_event_time_unix_micros(kStart - (40 - i) * 3 * kMinute);
    score->mutable_float_values()->add_values(0.25f * static_cast<float>(i));
    score->add_is_null(i % 7 == 0);
    flagged->mutable_bool_values()->add_values(i % 3 == 0);
    amount->mutable_int64_values()->add_values(i % 4 == 0 ? -i : i);
  }
  REQUIRE(f.store->Ingest(ingest).ok());
  v1::FeatureGroupSpec spec;
  spec.set_name("visit_stats");
  spec.mutable_aggregation()->set_source_group("visits");
  AddAggregation(&spec, "score", v1::AGGREGATION_FUNCTION_SUM, {60});
  AddAggregation(&spec, "score", v1::AGGREGATION_FUNCTION_COUNT, {60});
  AddAggregation(&spec, "flagged", v1::AGGREGATION_FUNCTION_SUM, {60});
  v1::FeatureGroupSpec filtered = spec;
  filtered.set_name("visit_refunds");
  filtered.mutable_aggregation()->clear_aggregations();
  AddAggregation(&filtered, "amount", v1::AGGREGATION_FUNCTION_SUM, {60})->set_filter("amount < 0");
  AddAggregation(&filtered, "score", v1::AGGREGATION_FUNCTION_MAX, {60})->set_filter("flagged");
  REQUIRE(f.Apply(spec).ok());
  REQUIRE(f.Apply(filtered).ok());
  const std::vector<std::string> names = {
      "visit_stats:score_sum_1h", "visit_stats:score_count_1h", "visit_stats:flagged_sum_1h",
      "visit_refunds:amount_sum_1h", "visit_refunds:score_max_1h"};
  google::protobuf::RepeatedPtrField<v1::FeatureRef> refs;
  for (const std::string& name : names) {
    v1::FeatureRef* ref = refs.Add();
    ref->set_group(name.substr(0, name.find(':')));
    ref->set_feature(name.substr(name.find(':') + 1));
  }
  // Labels at the times the online lookups are made, for both customers.
  const std::vector<int64_t> times = {kStart - 100 * kMinute, kStart - 61 * kMinute,
                                      kStart - 20 * kMinute, kStart};
  v1::TrainingSetRows labels;
  v1::EntityKeys* keys = labels.add_entity_keys();
  keys->set_entity("customer");
  for (int64_t t : times) {
    for (const char* c : {"c0", "c1"}) {
      keys->add_keys(c);
      labels.add_event_time_unix_micros(t);
    }
  }
  for (size_t o = 0; o < names.size(); ++o) labels.add_features();
  auto columns = AggregationColumns::Create(*f.store, *f.store->catalog().Snapshot(), refs, 1);
  REQUIRE(columns.ok());
  REQUIRE((*columns)->Fill(&labels).ok());
  int checked = 0;
  for (size_t t = 0; t < times.size(); ++t) {
    f.clock.Set(absl::FromUnixMicros(times[t]));
    absl::StatusOr<v1::LookupOnlineResponse> online = f.Lookup(names, {"c0", "c1"});
    REQUIRE(online.ok());
    for (size_t o = 0; o < names.size(); ++o) {
      const v1::ValueColumn& trained = labels.features(o).values();
      const v1::OnlineFeatureColumn& served = online->columns(o);
      for (int e = 0; e < 2; ++e) {
        const int r = static_cast<int>(t) * 2 + e;
        INFO(names[o] << " entity " << e << " at " << times[t]);
        const bool present = served.statuses(e) == v1::VALUE_STATUS_PRESENT;
        REQUIRE(present == (trained.is_null_size() == 0 || !trained.is_null(r)));
        if (!present) continue;
        if (o == 1) {
          REQUIRE(trained.int64_values().values(r) == served.values().int64_values().values(e));
        } else {
          REQUIRE(trained.double_values().values(r) == served.values().double_values().values(e));
        }
        ++checked;
      }
    }
  }
  REQUIRE(checked >= 20);  // Most windows hold something.
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
  Fixture f;
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

namespace fabrique::features {
namespace {

// Hidden ("[.]"): the training-set cost of aggregation features at a moderate size, printed.
TEST_CASE("Aggregation training set throughput", "[.][bench]") {
  Fixture f;
  v1::FeatureGroupSpec spec;
  spec.set_name("spend");
  spec.mutable_aggregation()->set_source_group("payments");
  for (auto fn : {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM,
                  v1::AGGREGATION_FUNCTION_MEAN}) {
    AddAggregation(&spec, "amount", fn, {60, 1440});
  }
  REQUIRE(f.Apply(spec).ok());
  std::mt19937_64 rng(1);
  constexpr int kEntities = 20'000, kEvents = 1'000'000, kLabels = 100'000;
  const int64_t span = 30LL * 1440 * kMinute;
  for (int b = 0; b < kEvents / 50'000; ++b) {
    std::vector<Event> batch;
    for (int i = 0; i < 50'000; ++i) {
      batch.push_back({"e" + std::to_string(rng() % kEntities),
                       kStart - static_cast<int64_t>(rng() % span), int64_t(rng() % 100)});
    }
    REQUIRE(f.Ingest(batch).ok());
  }
  v1::LabelEventBatch labels;
  v1::EntityKeys* keys = labels.add_entity_keys();
  for (int i = 0; i < kLabels; ++i) {
    keys->add_keys("e" + std::to_string(rng() % kEntities));
    labels.add_event_time_unix_micros(kStart - static_cast<int64_t>(rng() % span));
    labels.mutable_labels()->mutable_int64_values()->add_values(i);
  }
  v1::TrainingSetSpec ts;
  ts.mutable_label()->mutable_events();
  ts.set_summary_only(true);
  for (const char* name : {"amount_count_1h", "amount_sum_1h", "amount_mean_1h", "amount_count_1d",
                           "amount_sum_1d", "amount_mean_1d"}) {
    v1::FeatureRef* ref = ts.add_features();
    ref->set_group("spend");
    ref->set_feature(name);
  }
  const absl::Time start = absl::Now();
  auto build = TrainingSetBuild::Start(
      *f.store, ts, {}, [](v1::BuildTrainingSetResponse*) { return absl::OkStatus(); });
  REQUIRE(build.ok());
  REQUIRE((*build)->AddEvents(labels).ok());
  REQUIRE((*build)->Finish().ok());
  WARN(kEvents << " events x " << kLabels
               << " labels, 6 aggregates: " << absl::FormatDuration(absl::Now() - start));
}

}  // namespace
}  // namespace fabrique::features
