#ifndef FABRIQUE_TESTS_FEATURES_STORE_AGGREGATION_FIXTURE_H_
#define FABRIQUE_TESTS_FEATURES_STORE_AGGREGATION_FIXTURE_H_

// What the aggregation tests of the feature store's core share: an in-memory store with a fake
// clock, the "spend" group over every function, random events, and the brute-force value of a
// window over raw events that lookups and training sets are held to.

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
#include "libs/features/store/aggregation_groups.h"
#include "libs/features/store/feature_store.h"
#include "libs/kv/options.h"

namespace fabrique::features {

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

  // `tile_cache_bytes`: FeatureStoreOptions::tile_cache_bytes.
  explicit Fixture(size_t tile_cache_bytes = FeatureStoreOptions().tile_cache_bytes) {
    kv::StoreOptions options;
    options.path = "/features";
    options.in_memory = true;
    FeatureStore::ConfigureStore(&options, &clock, retention);
    kv = *kv::Store::Open(options);
    FeatureStoreOptions store_options{kv.get(), &clock, retention};
    store_options.tile_cache_bytes = tile_cache_bytes;
    auto created = FeatureStore::Create(store_options);
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
                                               const std::string& group = "payments",
                                               bool bulk = false) {
    v1::IngestRequest request;
    request.set_group(group);
    request.set_bulk(bulk);
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

inline v1::Aggregation* AddAggregation(v1::FeatureGroupSpec* spec, const char* feature,
                                       v1::AggregationFunction function,
                                       std::initializer_list<int64_t> minutes) {
  v1::Aggregation* a = spec->mutable_aggregation()->add_aggregations();
  a->set_feature(feature);
  a->set_function(function);
  for (int64_t m : minutes) a->add_windows()->set_seconds(m * 60);
  return a;
}

// "spend": every function over 10m, 1h and 1d of payments' amount, and a row count.
inline v1::FeatureGroupSpec Spend() {
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
inline std::optional<double> BruteForce(const std::vector<Event>& events, const std::string& entity,
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

inline void RequireSame(std::optional<double> got, std::optional<double> want,
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
inline std::vector<Event> RandomEvents(std::mt19937_64& rng, int n) {
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
inline void RequireLookupMatches(Fixture& f, const std::vector<Event>& events) {
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

}  // namespace fabrique::features

#endif  // FABRIQUE_TESTS_FEATURES_STORE_AGGREGATION_FIXTURE_H_
