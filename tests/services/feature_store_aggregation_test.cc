// Aggregation groups through the real gRPC adapter: ApplyFeatureGroupWithProgress streams the
// backfill's progress then the applied group, its errors keep their codes, and the group's
// features are looked up like any other.

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/services/feature_store_test_server.h"

namespace fabrique::services {
namespace {

using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Ingest;
using feature_test::Server;

v1::ApplyFeatureGroupRequest Spend(int64_t window_seconds) {
  v1::ApplyFeatureGroupRequest request;
  v1::FeatureGroupSpec* spec = request.mutable_spec();
  spec->set_name("tx_spend");
  spec->set_owner_squad("risk");
  spec->mutable_aggregation()->set_source_group("tx");
  v1::Aggregation* sum = spec->mutable_aggregation()->add_aggregations();
  sum->set_feature("amount");
  sum->set_function(v1::AGGREGATION_FUNCTION_SUM);
  sum->add_windows()->set_seconds(window_seconds);
  v1::Aggregation* count = spec->mutable_aggregation()->add_aggregations();
  count->set_function(v1::AGGREGATION_FUNCTION_COUNT);
  count->add_windows()->set_seconds(window_seconds);
  return request;
}

TEST_CASE("an aggregation group applies with backfill progress and is looked up") {
  Server s;
  Define(s);
  v1::IngestResponse ingested;
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 1, 10.f, "FR"}, {"c1", 2, 5.f, "FR"}, {"c2", 3, 1.f, "DE"}})},
                 &ingested)
              .ok());

  auto context = Context();
  auto reader = s.stub->ApplyFeatureGroupWithProgress(context.get(), Spend(24 * 3600));
  std::vector<v1::ApplyFeatureGroupProgress> messages;
  v1::ApplyFeatureGroupProgress message;
  while (reader->Read(&message)) messages.push_back(message);
  REQUIRE(reader->Finish().ok());
  REQUIRE(messages.size() >= 2);
  REQUIRE(messages[messages.size() - 2].has_backfill());
  CHECK(messages[messages.size() - 2].backfill().rows_scanned() == 3);
  CHECK(messages[messages.size() - 2].backfill().entities() == 2);
  REQUIRE(messages.back().has_done());
  const v1::FeatureGroup& group = messages.back().done().group();
  CHECK(messages.back().done().created());
  REQUIRE(group.spec().features_size() == 2);
  CHECK(group.spec().features(0).name() == "amount_sum_1d");
  CHECK(group.spec().features(1).name() == "count_1d");

  v1::LookupOnlineRequest lookup;
  v1::FeatureRef* ref = lookup.add_features();
  ref->set_group("tx_spend");
  ref->set_feature("amount_sum_1d");
  ref = lookup.add_features();
  ref->set_group("tx");
  ref->set_feature("amount");
  ref = lookup.add_features();
  ref->set_group("tx_spend");
  ref->set_feature("count_1d");
  lookup.add_entity_keys()->add_keys("c1");
  v1::LookupOnlineResponse values;
  REQUIRE(s.stub->LookupOnline(Context().get(), lookup, &values).ok());
  REQUIRE(values.columns_size() == 3);
  CHECK(values.columns(0).values().double_values().values(0) == 15.0);
  CHECK(values.columns(1).values().float_values().values(0) == 5.f);
  CHECK(values.columns(2).values().int64_values().values(0) == 2);

  // Rows go to the source; the aggregation group refuses them.
  v1::IngestRequest into_aggregation = Batch(s, {{"c1", 4, 1.f, "FR"}});
  into_aggregation.set_group("tx_spend");
  const grpc::Status refused = Ingest(s, {into_aggregation}, &ingested);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("a window that is not a whole number of tiles is refused with the nearest valid ones") {
  Server s;
  Define(s);
  auto context = Context();
  auto reader = s.stub->ApplyFeatureGroupWithProgress(context.get(), Spend(90));
  v1::ApplyFeatureGroupProgress message;
  while (reader->Read(&message)) {
  }
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(), "nearest valid: 1m, 2m"));
  v1::ApplyFeatureGroupResponse response;
  const grpc::Status unary = s.stub->ApplyFeatureGroup(Context().get(), Spend(90), &response);
  CHECK(unary.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace fabrique::services
