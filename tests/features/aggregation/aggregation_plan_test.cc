// AggregationPlan: defaults, output features and labels, and every refusal with the code and a
// message that says what to fix.

#include "libs/features/aggregation/aggregation_plan.h"

#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/features/aggregation/tile_state.h"

namespace fabrique::features {
namespace {

v1::FeatureGroup Payments() {
  v1::FeatureGroup group;
  group.set_schema_version(1);
  group.mutable_spec()->set_name("payments");
  group.mutable_spec()->set_entity("customer");
  auto add = [&](const char* name, v1::FeatureType type) {
    v1::FeatureSpec* f = group.mutable_spec()->add_features();
    f->set_name(name);
    f->set_type(type);
  };
  add("amount", v1::FEATURE_TYPE_DOUBLE);
  add("items", v1::FEATURE_TYPE_INT64);
  add("city", v1::FEATURE_TYPE_STRING);
  return group;
}

v1::Aggregation* Add(v1::AggregationSpec* spec, const char* feature,
                     v1::AggregationFunction function, std::initializer_list<int64_t> seconds) {
  v1::Aggregation* a = spec->add_aggregations();
  a->set_feature(feature);
  a->set_function(function);
  for (int64_t s : seconds) a->add_windows()->set_seconds(s);
  return a;
}

v1::AggregationSpec Spec() {
  v1::AggregationSpec spec;
  spec.set_source_group("payments");
  return spec;
}

// Four rows of entity "c" at times 0..3: amount step * i, items i + 1 (null in row `null_items`).
v1::RowBatch AmountsAndItems(double step, int null_items = -1) {
  v1::RowBatch rows;
  v1::FeatureColumn* amount = rows.add_columns();
  amount->mutable_feature()->set_feature("amount");
  v1::FeatureColumn* items = rows.add_columns();
  items->mutable_feature()->set_feature("items");
  for (int i = 0; i < 4; ++i) {
    rows.add_entity_keys("c");
    rows.add_event_time_unix_micros(i);
    amount->mutable_values()->mutable_double_values()->add_values(step * i);
    items->mutable_values()->mutable_int64_values()->add_values(i + 1);
    if (null_items >= 0) items->mutable_values()->add_is_null(i == null_items);
  }
  return rows;
}

void RequireError(const v1::AggregationSpec& spec, absl::StatusCode code, const std::string& text) {
  absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
      AggregationPlan::Create(spec, Payments());
  INFO(plan.status().ToString());
  REQUIRE(plan.status().code() == code);
  REQUIRE(absl::StrContains(plan.status().message(), text));
}

TEST_CASE("Window labels use the largest unit that divides them", "[plan]") {
  REQUIRE(WindowLabel(90'000'000) == "90s");
  REQUIRE(WindowLabel(600'000'000) == "10m");
  REQUIRE(WindowLabel(3'600'000'000) == "1h");
  REQUIRE(WindowLabel(36 * 3'600'000'000LL) == "36h");
  REQUIRE(WindowLabel(86'400'000'000) == "1d");
  REQUIRE(WindowLabel(7 * 86'400'000'000LL) == "7d");
  REQUIRE(WindowLabel(1'500) == "1500us");
}

TEST_CASE("A plan lists its outputs in spec order with defaults", "[plan]") {
  v1::AggregationSpec spec = Spec();
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {3600, 86400});
  Add(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {600});
  Add(&spec, "items", v1::AGGREGATION_FUNCTION_STDDEV, {120})->set_name("spread");
  absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
      AggregationPlan::Create(spec, Payments());
  REQUIRE(plan.ok());
  const AggregationPlan& p = **plan;
  REQUIRE(p.tile_micros() == 60'000'000);
  REQUIRE(p.lateness_micros() == 0);
  std::vector<v1::FeatureSpec> outputs = p.OutputFeatures();
  REQUIRE(outputs.size() == 4);
  REQUIRE(outputs[0].name() == "amount_sum_1h");
  REQUIRE(outputs[0].type() == v1::FEATURE_TYPE_DOUBLE);
  REQUIRE(outputs[1].name() == "amount_sum_1d");
  REQUIRE(outputs[2].name() == "count_10m");
  REQUIRE(outputs[2].type() == v1::FEATURE_TYPE_INT64);
  REQUIRE(outputs[3].name() == "spread_2m");
  REQUIRE(p.aggregations()[0].window_tiles == std::vector<int64_t>{60, 1440});
  REQUIRE(p.FindOutput("count_10m") == std::make_pair(1, 0));
  REQUIRE_FALSE(p.FindOutput("amount_sum_2h").has_value());
  REQUIRE(p.input_features() == std::vector<std::string>{"amount", "items"});
  // 1440 + 1 base tiles: 16 * 16 = 256 < 1441 <= 16^3, so three levels.
  REQUIRE(p.pyramid().levels() == 3);
}

TEST_CASE("A window that is not a whole number of tiles names the nearest valid ones", "[plan]") {
  v1::AggregationSpec spec = Spec();
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {90});
  RequireError(spec, absl::StatusCode::kInvalidArgument,
               "window 90s of amount_sum is not a whole number of 1m tiles; nearest valid: 1m, 2m");
  spec.mutable_aggregations(0)->mutable_windows(0)->set_seconds(30);
  RequireError(spec, absl::StatusCode::kInvalidArgument, "nearest valid: 1m");
}

TEST_CASE("Bad aggregation specs are refused with what to fix", "[plan]") {
  {
    v1::AggregationSpec spec;
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "source_group is empty");
  }
  RequireError(Spec(), absl::StatusCode::kInvalidArgument, "aggregations is empty");
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "amt", v1::AGGREGATION_FUNCTION_SUM, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "has no feature 'amt'");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "city", v1::AGGREGATION_FUNCTION_MAX, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "feature 'city' of 'payments' is");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_UNSPECIFIED, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "has no function");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "", v1::AGGREGATION_FUNCTION_SUM, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "only COUNT may leave it empty");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {0});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "windows must be positive");
    spec.mutable_aggregations(0)->mutable_windows(0)->set_seconds(-60);
    RequireError(spec, absl::StatusCode::kInvalidArgument, "windows must be positive");
    spec.mutable_aggregations(0)->clear_windows();
    RequireError(spec, absl::StatusCode::kInvalidArgument, "has no window");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {3600});
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60, 3600});
    RequireError(spec, absl::StatusCode::kInvalidArgument,
                 "output feature 'amount_sum_1h' is declared twice");
  }
  {
    v1::AggregationSpec spec = Spec();
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60})->set_name("Total");
    RequireError(spec, absl::StatusCode::kInvalidArgument, "[a-z][a-z0-9_]*");
  }
  {
    v1::AggregationSpec spec = Spec();
    spec.mutable_tile()->set_seconds(-1);
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "tile must be positive");
  }
  {
    v1::AggregationSpec spec = Spec();
    spec.mutable_lateness()->set_seconds(-1);
    Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60});
    RequireError(spec, absl::StatusCode::kInvalidArgument, "lateness is negative");
  }
}

TEST_CASE("A filter must compile over the source and be BOOL", "[plan]") {
  v1::AggregationSpec spec = Spec();
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60})->set_filter("amout > 0");
  RequireError(spec, absl::StatusCode::kInvalidArgument, "filter of aggregation 1 (amount_sum)");
  RequireError(spec, absl::StatusCode::kInvalidArgument, "amout");
  spec.mutable_aggregations(0)->set_filter("amount + 1");
  RequireError(spec, absl::StatusCode::kInvalidArgument, "a filter must be BOOL");
  spec.mutable_aggregations(0)->set_filter("items > 2");
  auto plan = AggregationPlan::Create(spec, Payments());
  REQUIRE(plan.ok());
  REQUIRE((*plan)->input_features() == std::vector<std::string>{"amount", "items"});
  // Items of row 3 null: the filter is null, the row is left out.
  const v1::RowBatch rows = AmountsAndItems(1, 3);
  std::vector<SlotInputs> inputs;
  REQUIRE((*plan)->Inputs(rows, {}, &inputs).ok());
  REQUIRE(inputs[0].present == std::vector<uint8_t>{0, 0, 1, 0});
}

TEST_CASE("Inputs skip nulls, masked rows and absent columns", "[plan]") {
  v1::AggregationSpec spec = Spec();
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {60});
  Add(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {60});
  Add(&spec, "items", v1::AGGREGATION_FUNCTION_MAX, {60});
  auto plan = AggregationPlan::Create(spec, Payments());
  REQUIRE(plan.ok());
  v1::RowBatch rows;
  for (int i = 0; i < 3; ++i) {
    rows.add_entity_keys("c");
    rows.add_event_time_unix_micros(i);
  }
  v1::FeatureColumn* amount = rows.add_columns();
  amount->mutable_feature()->set_feature("amount");
  for (double v : {1.5, 2.5, 3.5}) amount->mutable_values()->mutable_double_values()->add_values(v);
  for (bool n : {false, true, false}) amount->mutable_values()->add_is_null(n);
  std::vector<uint8_t> skip = {0, 0, 1};
  std::vector<SlotInputs> inputs;
  REQUIRE((*plan)->Inputs(rows, skip, &inputs).ok());
  REQUIRE(inputs[0].present == std::vector<uint8_t>{1, 0, 0});
  REQUIRE(inputs[0].values[0] == 1.5);
  REQUIRE(inputs[1].present == std::vector<uint8_t>{1, 1, 0});
  REQUIRE(inputs[2].present == std::vector<uint8_t>{0, 0, 0});
}

TEST_CASE("Aggregations of one feature under one filter share a slot", "[plan]") {
  v1::AggregationSpec spec = Spec();
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_COUNT, {3600, 86400});
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_SUM, {3600});
  Add(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {3600});
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_MEAN, {86400});
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_MAX, {3600})->set_filter("items > 2");
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_STDDEV, {3600})->set_filter("items > 2");
  Add(&spec, "amount", v1::AGGREGATION_FUNCTION_LAST, {3600})->set_name("amount_latest");
  auto plan = AggregationPlan::Create(spec, Payments());
  REQUIRE(plan.ok());
  const AggregationPlan& p = **plan;
  std::vector<int> slots;
  for (const PlannedAggregation& a : p.aggregations()) slots.push_back(a.slot);
  REQUIRE(slots == std::vector<int>{0, 0, 1, 0, 2, 2, 0});
  REQUIRE(p.slots().size() == 3);
  REQUIRE(p.slots()[0].feature == "amount");
  REQUIRE(p.slots()[0].filter == nullptr);
  REQUIRE(p.slots()[1].feature.empty());
  REQUIRE(p.slots()[2].filter_text == "items > 2");
  REQUIRE(p.slots()[2].filter != nullptr);
  REQUIRE(p.slot_fields() == std::vector<uint8_t>{kSlotSum | kSlotLast, 0, kSlotMax | kSlotSpread});
  // One input per slot: the filtered slot keeps only the rows where items > 2.
  const v1::RowBatch rows = AmountsAndItems(10);
  std::vector<SlotInputs> inputs;
  REQUIRE(p.Inputs(rows, {}, &inputs).ok());
  REQUIRE(inputs.size() == 3);
  REQUIRE(inputs[0].present == std::vector<uint8_t>{1, 1, 1, 1});
  REQUIRE(inputs[1].present == std::vector<uint8_t>{1, 1, 1, 1});
  REQUIRE(inputs[2].present == std::vector<uint8_t>{0, 0, 1, 1});
  REQUIRE(inputs[2].values[3] == 30);
}

}  // namespace
}  // namespace fabrique::features
