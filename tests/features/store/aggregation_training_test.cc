// Aggregation features in training sets through the FeatureStore core: values equal to a
// brute-force computation at each label's time (events in order, shuffled or backfilled; chunks
// of any size; labels announced or not), whatever the number of threads reading history, and
// equal to the online values for FLOAT, BOOL and filtered inputs.

#include "libs/features/store/aggregation_training.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/features/store/feature_store.h"
#include "libs/features/store/training_set_build.h"
#include "tests/features/store/aggregation_fixture.h"

namespace fabrique::features {
namespace {

// Adds every output of "spend" to `spec`'s features; returns their (aggregation, window).
std::vector<std::pair<int, int>> AddSpendOutputs(const AggregationPlan& plan,
                                                 v1::TrainingSetSpec* spec) {
  std::vector<std::pair<int, int>> outputs;
  for (const v1::FeatureSpec& out : plan.OutputFeatures()) {
    v1::FeatureRef* ref = spec->add_features();
    ref->set_group("spend");
    ref->set_feature(out.name());
    outputs.push_back(*plan.FindOutput(out.name()));
  }
  return outputs;
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
  const std::vector<std::pair<int, int>> outputs = AddSpendOutputs(*plan, &spec);
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
  const std::vector<std::pair<int, int>> outputs = AddSpendOutputs(*plan, &spec);
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
