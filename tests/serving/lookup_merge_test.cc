#include "libs/serving/lookup_merge.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::serving {
namespace {

v1::LookupOnlineRequest Request(const std::vector<std::string>& customers) {
  v1::LookupOnlineRequest request;
  request.add_features()->set_group("g");
  request.mutable_features(0)->set_feature("f");
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity("customer");
  for (const std::string& key : customers) keys->add_keys(key);
  return request;
}

TEST_CASE("Merged lookups concatenate the keys; the key tells lists apart") {
  const v1::LookupOnlineRequest a = Request({"a0", "a1"});
  const v1::LookupOnlineRequest b = Request({"b0"});
  const v1::LookupOnlineRequest merged = MergeLookups({&a, &b});
  REQUIRE(merged.entity_keys_size() == 1);
  CHECK(merged.entity_keys(0).entity() == "customer");
  CHECK(std::vector<std::string>(merged.entity_keys(0).keys().begin(),
                                 merged.entity_keys(0).keys().end()) ==
        std::vector<std::string>{"a0", "a1", "b0"});
  CHECK(LookupMergeKey(a) == LookupMergeKey(b));
  v1::LookupOnlineRequest timed = a;
  timed.set_include_event_times(true);
  CHECK(LookupMergeKey(timed) != LookupMergeKey(a));
  // Names are length-prefixed: "g:f" + entity "x" never reads like another split of the text.
  v1::LookupOnlineRequest other = a;
  other.mutable_features(0)->set_group("gf");
  other.mutable_features(0)->set_feature("");
  CHECK(LookupMergeKey(other) != LookupMergeKey(a));
}

TEST_CASE("A slice keeps values, null flags, statuses and event times of its rows") {
  v1::LookupOnlineResponse answer;
  answer.set_row_count(3);
  const auto add = [&answer](const std::string& feature) {
    v1::OnlineFeatureColumn* column = answer.add_columns();
    column->mutable_feature()->set_group("g");
    column->mutable_feature()->set_feature(feature);
    column->set_schema_version(4);
    for (int r = 0; r < 3; ++r) {
      column->add_statuses(r == 1 ? v1::VALUE_STATUS_EXPIRED : v1::VALUE_STATUS_PRESENT);
      column->add_event_time_unix_micros(100 + r);
    }
    return column->mutable_values();
  };
  v1::ValueColumn* floats = add("f");
  for (float v : {1.0f, 2.0f, 3.0f}) floats->mutable_float_values()->add_values(v);
  for (bool null : {false, false, true}) floats->add_is_null(null);
  v1::ValueColumn* doubles = add("d");
  for (double v : {1.5, 2.5, 3.5}) doubles->mutable_double_values()->add_values(v);
  v1::ValueColumn* ints = add("i");
  for (int64_t v : {7, 8, 9}) ints->mutable_int64_values()->add_values(v);
  v1::ValueColumn* bools = add("b");
  for (bool v : {true, false, true}) bools->mutable_bool_values()->add_values(v);
  v1::ValueColumn* strings = add("s");
  for (const char* v : {"x", "y", "z"}) strings->mutable_string_values()->add_values(v);
  v1::ValueColumn* vectors = add("v");
  for (float v : {1.0f, 2.0f, 3.0f}) {
    vectors->mutable_float_vector_values()->add_values()->add_values(v);
  }

  v1::LookupOnlineRequest request;
  for (const char* f : {"f", "d", "i", "b", "s", "v"}) {
    v1::FeatureRef* ref = request.add_features();
    ref->set_group("g");
    ref->set_feature(f);
  }
  REQUIRE(CheckLookupAnswer(request, answer, 3).ok());
  const v1::LookupOnlineResponse slice = SliceLookup(answer, 1, 2);
  CHECK(slice.row_count() == 2);
  REQUIRE(slice.columns_size() == 6);
  CHECK(slice.columns(0).values().float_values().values(0) == 2.0f);
  CHECK(slice.columns(0).values().is_null(1));
  CHECK(slice.columns(0).statuses(0) == v1::VALUE_STATUS_EXPIRED);
  CHECK(slice.columns(0).event_time_unix_micros(1) == 102);
  CHECK(slice.columns(0).schema_version() == 4);
  CHECK(slice.columns(1).values().double_values().values(1) == 3.5);
  CHECK(slice.columns(2).values().int64_values().values(0) == 8);
  CHECK(!slice.columns(3).values().bool_values().values(0));
  CHECK(slice.columns(4).values().string_values().values(1) == "z");
  CHECK(slice.columns(5).values().float_vector_values().values(1).values(0) == 3.0f);
  CHECK(slice.columns(1).values().is_null().empty());

  CHECK(CheckLookupAnswer(request, answer, 4).code() == absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace fabrique::serving
