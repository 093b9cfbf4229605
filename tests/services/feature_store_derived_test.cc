// Derived features through the real gRPC adapter: computed at ingest (streaming and bulk), read
// back by lookups and training sets like any feature, refused with the expression's position at
// apply, fixed once applied, and nulled with a counted warning on a division by zero.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "catch2/catch.hpp"
#include "tests/services/feature_store_test_server.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

using feature_test::Context;
using feature_test::kHour;
using feature_test::Server;

v1::FeatureSpec Feature(const std::string& name, v1::FeatureType type,
                        const std::string& expression = "") {
  v1::FeatureSpec feature;
  feature.set_name(name);
  feature.set_type(type);
  feature.set_expression(expression);
  return feature;
}

// Group "orders" of "customer": amount, items and city supplied; ratio, city_lc, big and
// size_bucket derived (big reads ratio, derived before it).
v1::FeatureGroupSpec OrdersSpec() {
  v1::FeatureGroupSpec spec;
  spec.set_name("orders");
  spec.set_entity("customer");
  spec.set_owner_squad("risk");
  *spec.add_features() = Feature("amount", v1::FEATURE_TYPE_DOUBLE);
  *spec.add_features() = Feature("items", v1::FEATURE_TYPE_INT64);
  *spec.add_features() = Feature("city", v1::FEATURE_TYPE_STRING);
  *spec.add_features() = Feature("ratio", v1::FEATURE_TYPE_DOUBLE, "amount / items");
  *spec.add_features() = Feature("city_lc", v1::FEATURE_TYPE_STRING, "lower(city)");
  *spec.add_features() = Feature("big", v1::FEATURE_TYPE_BOOL, "coalesce(ratio, 0) > 10");
  *spec.add_features() =
      Feature("size_bucket", v1::FEATURE_TYPE_INT64, "bucketize(amount, [10, 100])");
  return spec;
}

grpc::Status Apply(Server& s, const v1::FeatureGroupSpec& spec) {
  v1::ApplyFeatureGroupRequest request;
  *request.mutable_spec() = spec;
  v1::ApplyFeatureGroupResponse response;
  return s.stub->ApplyFeatureGroup(Context().get(), request, &response);
}

void DefineOrders(Server& s) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::Entity stored;
  REQUIRE(s.stub->ApplyEntity(Context().get(), entity, &stored).ok());
  const grpc::Status status = Apply(s, OrdersSpec());
  INFO(status.error_message());
  REQUIRE(status.ok());
}

struct Order {
  std::string key;
  int hour;  // After 20 h before the clock's time.
  double amount;
  int64_t items;
  std::string city;
};

v1::IngestRequest Orders(const Server& s, const std::vector<Order>& orders, bool bulk = false) {
  v1::IngestRequest request;
  request.set_group("orders");
  request.set_bulk(bulk);
  v1::RowBatch* rows = request.mutable_rows();
  v1::ValueColumn* amount = rows->add_columns()->mutable_values();
  v1::ValueColumn* items = rows->add_columns()->mutable_values();
  v1::ValueColumn* city = rows->add_columns()->mutable_values();
  rows->mutable_columns(0)->mutable_feature()->set_feature("amount");
  rows->mutable_columns(1)->mutable_feature()->set_feature("items");
  rows->mutable_columns(2)->mutable_feature()->set_feature("city");
  const int64_t start = absl::ToUnixMicros(s.clock.Now()) - 20 * kHour;
  for (const Order& order : orders) {
    rows->add_entity_keys(order.key);
    rows->add_event_time_unix_micros(start + order.hour * kHour);
    amount->mutable_double_values()->add_values(order.amount);
    items->mutable_int64_values()->add_values(order.items);
    city->mutable_string_values()->add_values(order.city);
  }
  return request;
}

grpc::Status IngestOne(Server& s, const v1::IngestRequest& batch, v1::IngestResponse* response) {
  return feature_test::Ingest(s, {batch}, response);
}

v1::LookupOnlineResponse LookupOrders(Server& s, const std::vector<std::string>& features,
                                      const std::vector<std::string>& keys) {
  v1::LookupOnlineRequest request;
  for (const std::string& name : features) {
    v1::FeatureRef* ref = request.add_features();
    ref->set_group("orders");
    ref->set_feature(name);
  }
  v1::EntityKeys* entity = request.add_entity_keys();
  entity->set_entity("customer");
  for (const std::string& key : keys) entity->add_keys(key);
  v1::LookupOnlineResponse response;
  const grpc::Status status = s.stub->LookupOnline(Context().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

// The value of the counter `name` whose labels include every one of `labels`; -1 when absent.
double LabelledMetric(Server& s, const std::string& name, const std::vector<std::string>& labels) {
  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::ConsumePrefix(&line, name + "{")) continue;
    bool all = true;
    for (const std::string& label : labels) all = all && absl::StrContains(line, label);
    const size_t space = line.rfind(' ');
    double value = 0;
    if (all && space != absl::string_view::npos &&
        absl::SimpleAtod(line.substr(space + 1), &value)) {
      return value;
    }
  }
  return -1;
}

TEST_CASE("derived features are computed at ingest and read back by lookups") {
  Server s;
  DefineOrders(s);
  v1::IngestResponse response;
  REQUIRE(
      IngestOne(s, Orders(s, {{"c1", 1, 120.0, 4, "Paris"}, {"c2", 1, 5.0, 2, "LYON"}}), &response)
          .ok());
  REQUIRE(response.rows_written() == 2);
  CHECK(response.batches(0).warnings_size() == 0);
  const v1::LookupOnlineResponse found =
      LookupOrders(s, {"ratio", "city_lc", "big", "size_bucket"}, {"c1", "c2"});
  REQUIRE(found.columns_size() == 4);
  CHECK(found.columns(0).type() == v1::FEATURE_TYPE_DOUBLE);
  CHECK(found.columns(0).values().double_values().values(0) == 30.0);
  CHECK(found.columns(0).values().double_values().values(1) == 2.5);
  CHECK(found.columns(1).values().string_values().values(0) == "paris");
  CHECK(found.columns(1).values().string_values().values(1) == "lyon");
  CHECK(found.columns(2).values().bool_values().values(0));
  CHECK_FALSE(found.columns(2).values().bool_values().values(1));
  CHECK(found.columns(3).values().int64_values().values(0) == 2);
  CHECK(found.columns(3).values().int64_values().values(1) == 0);
  for (const v1::OnlineFeatureColumn& column : found.columns()) {
    CHECK(column.statuses(0) == v1::VALUE_STATUS_PRESENT);
    CHECK(column.statuses(1) == v1::VALUE_STATUS_PRESENT);
  }
}

TEST_CASE("a bulk batch computes its derived features too") {
  Server s;
  DefineOrders(s);
  v1::IngestResponse response;
  REQUIRE(IngestOne(s, Orders(s, {{"c1", 2, 50.0, 5, "Nice"}}, /*bulk=*/true), &response).ok());
  REQUIRE(response.rows_written() == 1);
  const v1::LookupOnlineResponse found = LookupOrders(s, {"ratio", "size_bucket"}, {"c1"});
  CHECK(found.columns(0).values().double_values().values(0) == 10.0);
  CHECK(found.columns(1).values().int64_values().values(0) == 1);
}

TEST_CASE("a training set reads the derived values as of each label's time") {
  Server s;
  DefineOrders(s);
  v1::IngestResponse response;
  REQUIRE(
      IngestOne(s, Orders(s, {{"c1", 1, 12.0, 3, "a"}, {"c1", 5, 9.0, 2, "b"}}), &response).ok());
  const int64_t start = absl::ToUnixMicros(s.clock.Now()) - 20 * kHour;
  v1::BuildTrainingSetRequest first;
  v1::TrainingSetSpec* spec = first.mutable_spec();
  v1::FeatureRef* ratio = spec->add_features();
  ratio->set_group("orders");
  ratio->set_feature("ratio");
  v1::LabelEventBatch* events = spec->mutable_label()->mutable_events();
  events->add_entity_keys()->set_entity("customer");
  for (int hour : {2, 6}) {  // Sees 12 / 3, then 9 / 2.
    events->mutable_entity_keys(0)->add_keys("c1");
    events->add_event_time_unix_micros(start + hour * kHour);
    events->mutable_labels()->mutable_bool_values()->add_values(true);
  }
  auto context = Context();
  auto stream = s.stub->BuildTrainingSet(context.get());
  stream->Write(first);
  stream->WritesDone();
  std::map<int64_t, double> by_event;
  v1::BuildTrainingSetResponse part;
  while (stream->Read(&part)) {
    if (!part.has_rows()) continue;
    const v1::TrainingSetRows& rows = part.rows();
    for (int r = 0; r < rows.label_event_index_size(); ++r) {
      by_event[rows.label_event_index(r)] = rows.features(0).values().double_values().values(r);
    }
  }
  const grpc::Status status = stream->Finish();
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(by_event[0] == 4.0);
  CHECK(by_event[1] == 4.5);
}

TEST_CASE("a division by zero stores null and is warned about and counted") {
  Server s;
  DefineOrders(s);
  v1::IngestResponse response;
  REQUIRE(
      IngestOne(s,
                Orders(s, {{"c1", 1, 7.0, 0, "x"}, {"c2", 1, 8.0, 0, "y"}, {"c3", 1, 9.0, 3, "z"}}),
                &response)
          .ok());
  REQUIRE(response.rows_written() == 3);
  REQUIRE(response.batches(0).warnings_size() == 1);
  const v1::IngestWarning& warning = response.batches(0).warnings(0);
  CHECK(warning.feature() == "ratio");
  CHECK(warning.kind() == "division_by_zero");
  CHECK(warning.count() == 2);
  CHECK(warning.message() == "ratio = amount / items: division by zero in 2 rows");
  const v1::LookupOnlineResponse found = LookupOrders(s, {"ratio", "big"}, {"c1", "c3"});
  CHECK(found.columns(0).statuses(0) == v1::VALUE_STATUS_MISSING);
  CHECK(found.columns(0).statuses(1) == v1::VALUE_STATUS_PRESENT);
  CHECK(found.columns(1).statuses(0) == v1::VALUE_STATUS_PRESENT);  // coalesce(ratio, 0) > 10
  CHECK(LabelledMetric(s, "fabrique_features_expression_warnings_total",
                       {"group=\"orders\"", "feature=\"ratio\"", "kind=\"division_by_zero\""}) ==
        2);
}

TEST_CASE("a batch that supplies a derived column is refused, naming it") {
  Server s;
  DefineOrders(s);
  v1::IngestRequest batch = Orders(s, {{"c1", 1, 7.0, 1, "x"}});
  v1::FeatureColumn* ratio = batch.mutable_rows()->add_columns();
  ratio->mutable_feature()->set_feature("ratio");
  ratio->mutable_values()->mutable_double_values()->add_values(7.0);
  v1::IngestResponse response;
  const grpc::Status status = IngestOne(s, batch, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(),
                          "feature \"ratio\" of group \"orders\" is derived"));
}

TEST_CASE("a bad expression is refused at apply with its position") {
  Server s;
  DefineOrders(s);
  v1::FeatureGroupSpec spec = OrdersSpec();
  spec.set_name("orders_typo");
  spec.mutable_features(3)->set_expression("amount / itms");
  grpc::Status status = Apply(s, spec);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(),
                          "feature \"ratio\": expression \"amount / itms\": position 10: unknown "
                          "feature \"itms\""));
  // DOUBLE does not fit INT64.
  spec = OrdersSpec();
  spec.set_name("orders_int");
  spec.mutable_features(3)->set_type(v1::FEATURE_TYPE_INT64);
  status = Apply(s, spec);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(), "gives double, which does not fit"));
}

TEST_CASE("the expression of an applied feature cannot change or go") {
  Server s;
  DefineOrders(s);
  v1::FeatureGroupSpec changed = OrdersSpec();
  changed.mutable_features(3)->set_expression("amount / (items + 1)");
  grpc::Status status = Apply(s, changed);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(status.error_message(), "would change its expression"));
  v1::FeatureGroupSpec removed = OrdersSpec();
  removed.mutable_features(3)->clear_expression();
  status = Apply(s, removed);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(status.error_message(), "would lose its expression"));
  // Adding a derived feature later is a new schema version, like any feature.
  v1::FeatureGroupSpec added = OrdersSpec();
  *added.add_features() = Feature("per_item_log", v1::FEATURE_TYPE_DOUBLE, "log1p(ratio)");
  status = Apply(s, added);
  INFO(status.error_message());
  CHECK(status.ok());
}

}  // namespace
}  // namespace fabrique::services
