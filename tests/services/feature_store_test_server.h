#ifndef FABRIQUE_TESTS_SERVICES_FEATURE_STORE_TEST_SERVER_H_
#define FABRIQUE_TESTS_SERVICES_FEATURE_STORE_TEST_SERVER_H_

// The feature store served in-process on a loopback port, for the adapter tests: a server over
// an in-memory or on-disk store with a fake clock, guarded by a real local identity (tokens and
// the default policy), and helpers for the calls the tests repeat (definitions of group "tx",
// owned by squad risk, batches, ingest streams, lookups).

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/server/service_host.h"
#include "services/features/feature_owners.h"
#include "services/features/feature_store_service.h"
#include "tests/services/access_refusals.h"
#include "tests/util/test_identity.h"
#include "tests/util/test_util.h"

namespace fabrique::services::feature_test {

inline constexpr int64_t kHour = 3'600'000'000;  // Microseconds.

// The identity the servers trust.
inline testing::TestIdentity& Identity() { return testing::SharedIdentity(); }

// A feature store served on a free loopback port, over a store in `path` ("" = in memory), or
// in `path` through `env` when given (not owned; it must outlive the Server).
struct Server {
  core::FakeClock clock{absl::FromUnixSeconds(1'800'000'000)};
  std::shared_ptr<features::RetentionPolicies> retention =
      std::make_shared<features::RetentionPolicies>();
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<features::FeatureStore> store;
  std::unique_ptr<core::Executor> lookups;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<FeatureStoreService> service;
  std::unique_ptr<v1::FeatureStore::Stub> stub;

  explicit Server(const std::string& path = "", rocksdb::Env* env = nullptr) {
    kv::StoreOptions kv_options;
    kv_options.path = path.empty() ? "/features" : path;
    kv_options.in_memory = path.empty() && env == nullptr;
    kv_options.env = env;
    features::FeatureStore::ConfigureStore(&kv_options, &clock, retention);
    kv = *kv::Store::Open(kv_options);
    features::FeatureStoreOptions options;
    options.store = kv.get();
    options.clock = &clock;
    options.retention = retention;
    auto created = features::FeatureStore::Create(options);
    REQUIRE(created.ok());
    store = *std::move(created);
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "features";
    host_options.listen_host = "127.0.0.1";
    host = *server::ServiceHost::Create(host_options);
    lookups = *core::Executor::Create({"lookup", 2});
    service = std::make_unique<FeatureStoreService>(
        store.get(), lookups.get(),
        server::ServiceAccess(Identity().guard(), v1::FeatureStore::service_full_name(),
                              FeatureOwners(store.get())),
        host->metrics());
    host->AddService(service.get(), v1::FeatureStore::service_full_name(), "the feature store");
    REQUIRE(host->Start().ok());
    stub = v1::FeatureStore::NewStub(
        client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~Server() {
    host->Shutdown();
    store.reset();
  }
};

// Dana, data engineer, data steward and data scientist of squad risk, which owns "customer" and
// "tx".
inline std::unique_ptr<grpc::ClientContext> Context() {
  return Identity().Context("dana",
                            {"risk:data-engineer", "risk:data-steward", "risk:data-scientist"});
}

// The platform admin of the default policy ("root"): everything, everywhere.
inline std::unique_ptr<grpc::ClientContext> AdminContext() {
  return Identity().Context("root", {});
}

// Defines entity "customer" and group "tx" (amount >= 0 float, country string), TTL 24 h.
inline void Define(Server& s, bool with_expectations = true) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::Entity stored;
  REQUIRE(s.stub->ApplyEntity(Context().get(), entity, &stored).ok());

  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name("tx");
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  spec->mutable_ttl()->set_seconds(24 * 3600);
  v1::FeatureSpec* amount = spec->add_features();
  amount->set_name("amount");
  amount->set_type(v1::FEATURE_TYPE_FLOAT);
  if (with_expectations) amount->mutable_expectations()->mutable_min_value()->set_value(0);
  v1::FeatureSpec* country = spec->add_features();
  country->set_name("country");
  country->set_type(v1::FEATURE_TYPE_STRING);
  v1::ApplyFeatureGroupResponse applied;
  REQUIRE(s.stub->ApplyFeatureGroup(Context().get(), apply, &applied).ok());
  REQUIRE(applied.created());
}

// A batch of "tx" rows: (key, hours after 20 h before the clock's time, amount, country).
inline v1::IngestRequest Batch(const Server& s,
                               std::vector<std::tuple<std::string, int, float, std::string>> rows,
                               const std::string& batch_id = "") {
  v1::IngestRequest request;
  request.set_group("tx");
  request.set_batch_id(batch_id);
  v1::RowBatch* batch = request.mutable_rows();
  v1::FeatureColumn* amount = batch->add_columns();
  amount->mutable_feature()->set_feature("amount");
  v1::FeatureColumn* country = batch->add_columns();
  country->mutable_feature()->set_feature("country");
  const int64_t start = absl::ToUnixMicros(s.clock.Now()) - 20 * kHour;
  for (const auto& [key, hours, value, text] : rows) {
    batch->add_entity_keys(key);
    batch->add_event_time_unix_micros(start + hours * kHour);
    amount->mutable_values()->mutable_float_values()->add_values(value);
    country->mutable_values()->mutable_string_values()->add_values(text);
  }
  return request;
}

inline grpc::Status Ingest(Server& s, const std::vector<v1::IngestRequest>& batches,
                           v1::IngestResponse* response) {
  auto context = Context();
  auto writer = s.stub->Ingest(context.get(), response);
  for (const auto& batch : batches) {
    if (!writer->Write(batch)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

using Groups = std::vector<std::string>;

// A context for `user` holding the token groups `groups` (e.g. "risk:data-scientist").
inline std::unique_ptr<grpc::ClientContext> As(const std::string& user, const Groups& groups) {
  return Identity().Context(user, groups);
}

// A lookup of `refs` ("group:feature") for customer c1.
inline v1::LookupOnlineRequest LookupOf(const Groups& refs) {
  v1::LookupOnlineRequest request;
  for (const std::string& ref : refs) {
    const size_t colon = ref.find(':');
    v1::FeatureRef* feature = request.add_features();
    feature->set_group(ref.substr(0, colon));
    feature->set_feature(ref.substr(colon + 1));
  }
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity("customer");
  keys->add_keys("c1");
  return request;
}

// A summary-only training set of `features` ("group:feature") joined to one inline label event
// of customer c1 at the clock's time; the dataset recorded in `out` when given.
inline grpc::Status BuildAs(Server& s, grpc::ClientContext* context, const Groups& features,
                            v1::Dataset* out = nullptr) {
  v1::BuildTrainingSetRequest first;
  v1::TrainingSetSpec* spec = first.mutable_spec();
  *spec->mutable_features() = LookupOf(features).features();
  spec->set_summary_only(true);
  v1::LabelEventBatch* events = spec->mutable_label()->mutable_events();
  events->add_entity_keys()->set_entity("customer");
  events->mutable_entity_keys(0)->add_keys("c1");
  events->add_event_time_unix_micros(absl::ToUnixMicros(s.clock.Now()));
  events->mutable_labels()->mutable_bool_values()->add_values(true);
  auto stream = s.stub->BuildTrainingSet(context);
  stream->Write(first);
  stream->WritesDone();
  v1::BuildTrainingSetResponse response;
  while (stream->Read(&response)) {
    if (out != nullptr && response.has_summary()) *out = response.summary();
  }
  return stream->Finish();
}

// Rows for c0..c<n-1>, c<i> with amount i and hour i % 20; c<n>.. are never written.
inline void IngestCustomers(Server& s, int n) {
  std::vector<std::tuple<std::string, int, float, std::string>> rows;
  for (int i = 0; i < n; ++i) {
    rows.emplace_back(absl::StrCat("c", i), i % 20, static_cast<float>(i), absl::StrCat("k", i));
  }
  v1::IngestResponse response;
  REQUIRE(Ingest(s, {Batch(s, rows)}, &response).ok());
  REQUIRE(response.rows_written() == n);
}

// A lookup of tx's amount and country for customers `keys`, with event times.
inline v1::LookupOnlineRequest LookupOfKeys(const std::vector<std::string>& keys) {
  v1::LookupOnlineRequest request;
  for (const char* name : {"amount", "country"}) {
    v1::FeatureRef* ref = request.add_features();
    ref->set_group("tx");
    ref->set_feature(name);
  }
  v1::EntityKeys* entity = request.add_entity_keys();
  entity->set_entity("customer");
  for (const std::string& key : keys) entity->add_keys(key);
  request.set_include_event_times(true);
  return request;
}

// The value of the unlabelled series `name` on the server's /metrics page, or -1 when absent.
inline double MetricValue(Server& s, const std::string& name) {
  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    double value = 0;
    if (absl::ConsumePrefix(&line, name + " ") && absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

inline v1::LookupOnlineResponse Lookup(Server& s, std::vector<std::string> keys) {
  const v1::LookupOnlineRequest request = LookupOfKeys(keys);
  v1::LookupOnlineResponse response;
  const grpc::Status status = s.stub->LookupOnline(Context().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

}  // namespace fabrique::services::feature_test

#endif  // FABRIQUE_TESTS_SERVICES_FEATURE_STORE_TEST_SERVER_H_
