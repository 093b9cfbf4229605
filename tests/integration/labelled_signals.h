#ifndef FABRIQUE_TESTS_INTEGRATION_LABELLED_SIGNALS_H_
#define FABRIQUE_TESTS_INTEGRATION_LABELLED_SIGNALS_H_

// A small learnable task in a real feature store, for the tests that train through the real
// binaries: group "signals" (x0, x1, doubles) of entity "customer" of squad risk, `rows`
// customers ingested three hours ago, and a spec whose labels (1 when x0 + x1 > 0) arrive with
// it as events an hour after the features.

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "tests/integration/secure_service.h"
#include "tests/util/access_requests.h"

namespace fabrique::testing {

// Defines and ingests the signals as the platform admin; returns a spec training `model` on them
// for `epochs` epochs (single thread, fixed seeds).
inline v1::RunSpec SeedSignals(v1::FeatureStore::Stub& stub, const std::string& model, int epochs,
                               int rows = 2000) {
  const auto admin = [] { return TokenContext(LocalIdentity(), "root", {}, absl::Seconds(20)); };
  v1::Entity entity;
  REQUIRE(stub.ApplyEntity(admin().get(), RiskCustomer(), &entity).ok());
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* group = apply.mutable_spec();
  group->set_name("signals");
  group->set_entity("customer");
  group->set_owner_squad("risk");
  for (const char* name : {"x0", "x1"}) {
    v1::FeatureSpec* feature = group->add_features();
    feature->set_name(name);
    feature->set_type(v1::FEATURE_TYPE_DOUBLE);
  }
  v1::ApplyFeatureGroupResponse applied;
  REQUIRE(stub.ApplyFeatureGroup(admin().get(), apply, &applied).ok());

  std::mt19937 rng(4);
  std::normal_distribution<double> normal(0, 1);
  const int64_t base = absl::ToUnixMicros(absl::Now() - absl::Hours(3));
  v1::IngestRequest ingest;
  ingest.set_group("signals");
  ingest.set_batch_id("signals-1");
  v1::RowBatch* batch = ingest.mutable_rows();
  v1::FeatureColumn* x0 = batch->add_columns();
  x0->mutable_feature()->set_feature("x0");
  v1::FeatureColumn* x1 = batch->add_columns();
  x1->mutable_feature()->set_feature("x1");
  v1::RunSpec spec;
  v1::LabelEventBatch* events = spec.mutable_label()->mutable_events();
  v1::EntityKeys* keys = events->add_entity_keys();
  keys->set_entity("customer");
  for (int i = 0; i < rows; ++i) {
    const std::string key = absl::StrCat("c", i);
    const double a = normal(rng), b = normal(rng);
    batch->add_entity_keys(key);
    batch->add_event_time_unix_micros(base + i);
    x0->mutable_values()->mutable_double_values()->add_values(a);
    x1->mutable_values()->mutable_double_values()->add_values(b);
    keys->add_keys(key);
    events->add_event_time_unix_micros(base + 3'600'000'000LL + i);
    events->mutable_labels()->mutable_int64_values()->add_values(a + b > 0 ? 1 : 0);
  }
  const grpc::Status ingested = IngestBatch(stub, admin().get(), ingest);
  INFO(ingested.error_message());
  REQUIRE(ingested.ok());

  spec.set_model_name(model);
  spec.set_task(v1::TASK_BINARY_CLASSIFICATION);
  for (const char* name : {"x0", "x1"}) {
    v1::FeatureRef* feature = spec.add_features();
    feature->set_group("signals");
    feature->set_feature(name);
  }
  spec.mutable_family()->mutable_mlp()->add_hidden_sizes(16);
  spec.mutable_optimizer()->set_learning_rate(0.01);
  spec.set_epochs(epochs);
  spec.set_batch_size(32);
  spec.set_device(v1::DEVICE_CPU);
  spec.set_threads(1);
  spec.set_seed(3);
  spec.mutable_split()->mutable_random()->set_seed(1);
  return spec;
}

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_INTEGRATION_LABELLED_SIGNALS_H_
