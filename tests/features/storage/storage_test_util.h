#ifndef FABRIQUE_TESTS_FEATURES_STORAGE_STORAGE_TEST_UTIL_H_
#define FABRIQUE_TESTS_FEATURES_STORAGE_STORAGE_TEST_UTIL_H_

// Helpers shared by the feature-store storage tests: status assertions, an in-memory store with
// the two families, feature group definitions and row batches built from plain values.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.pb.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/online_merge.h"
#include "libs/features/storage/value_columns.h"
#include "libs/kv/store.h"

#define STORAGE_REQUIRE_OK(expr)                                             \
  do {                                                                       \
    const ::absl::Status storage_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(storage_status_.ToString());                                        \
    REQUIRE(storage_status_.ok());                                           \
  } while (0)

#define STORAGE_REQUIRE_CODE(expr, expected_code)                            \
  do {                                                                       \
    const ::absl::Status storage_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(storage_status_.ToString());                                        \
    REQUIRE(storage_status_.code() == (expected_code));                      \
  } while (0)

namespace fabrique::features::testing {

// A typed value as tests write it; monostate = null.
using TestValue =
    std::variant<std::monostate, float, double, int64_t, bool, std::string, std::vector<float>>;

struct TestRow {
  std::string entity;
  int64_t time = 0;
  std::vector<TestValue> values;  // One per feature of the group, in storage order.
};

// Opens an in-memory store with "history" and "online", tuned as the feature store tunes them
// (and configure, if given).
inline std::unique_ptr<kv::Store> OpenStore(kv::StoreOptions options = {}) {
  options.path = "/in-memory/features";
  options.in_memory = options.env == nullptr;
  options.column_families = {"history", "online"};
  // The production settings (append-only history memtable, merge operator), so every storage
  // test reads and writes through them.
  TuneFeatureFamilies(&options);
  InstallOnlineMerge(&options);
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  STORAGE_REQUIRE_OK(store);
  return std::move(store).value();
}

// A group definition; features are (name, type) in storage order, since_version 1.
inline v1::FeatureGroup MakeGroup(
    const std::string& name, const std::string& entity,
    const std::vector<std::pair<std::string, v1::FeatureType>>& features, int64_t ttl_seconds = 0,
    int32_t version = 1) {
  v1::FeatureGroup group;
  group.mutable_spec()->set_name(name);
  group.mutable_spec()->set_entity(entity);
  for (const auto& [feature_name, type] : features) {
    v1::FeatureSpec* feature = group.mutable_spec()->add_features();
    feature->set_name(feature_name);
    feature->set_type(type);
    feature->set_since_version(1);
  }
  group.mutable_spec()->mutable_ttl()->set_seconds(ttl_seconds);
  group.set_schema_version(version);
  return group;
}

// Appends `value` (of `type`) through `builder`, flagging nulls.
inline void AppendTestValue(const TestValue& value, v1::FeatureType type, ColumnBuilder* builder,
                            v1::ValueColumn* scratch) {
  // Route through a one-value column so ColumnBuilder::AppendFrom handles every type.
  scratch->Clear();
  if (std::holds_alternative<std::monostate>(value)) {
    builder->AppendNull();
    return;
  }
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      scratch->mutable_float_values()->add_values(std::get<float>(value));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      scratch->mutable_double_values()->add_values(std::get<double>(value));
      break;
    case v1::FEATURE_TYPE_INT64:
      scratch->mutable_int64_values()->add_values(std::get<int64_t>(value));
      break;
    case v1::FEATURE_TYPE_BOOL:
      scratch->mutable_bool_values()->add_values(std::get<bool>(value));
      break;
    case v1::FEATURE_TYPE_STRING:
      scratch->mutable_string_values()->add_values(std::get<std::string>(value));
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      v1::FloatVector* vector = scratch->mutable_float_vector_values()->add_values();
      for (float f : std::get<std::vector<float>>(value)) vector->add_values(f);
      break;
    }
    default:
      FAIL("unsupported type");
  }
  builder->AppendFrom(*scratch, 0);
}

// A columnar RowBatch of `rows` for `group` (every feature gets a column).
inline v1::RowBatch MakeBatch(const v1::FeatureGroup& group, const std::vector<TestRow>& rows) {
  v1::RowBatch batch;
  std::vector<ColumnBuilder> builders;
  const auto& features = group.spec().features();
  builders.reserve(features.size());
  for (const v1::FeatureSpec& feature : features) {
    v1::FeatureColumn* column = batch.add_columns();
    column->mutable_feature()->set_feature(feature.name());
    builders.emplace_back(feature.type(), column->mutable_values());
  }
  v1::ValueColumn scratch;
  for (const TestRow& row : rows) {
    batch.add_entity_keys(row.entity);
    batch.add_event_time_unix_micros(row.time);
    for (int f = 0; f < features.size(); ++f) {
      const TestValue value = f < static_cast<int>(row.values.size()) ? row.values[f] : TestValue();
      AppendTestValue(value, features[f].type(), &builders[f], &scratch);
    }
  }
  for (ColumnBuilder& builder : builders) builder.Finish();
  return batch;
}

// Row `index` of `column` as a TestValue (null when flagged).
inline TestValue ValueAt(const v1::ValueColumn& column, int index) {
  if (ColumnIsNull(column, index)) return TestValue();
  switch (ColumnType(column)) {
    case v1::FEATURE_TYPE_FLOAT:
      return column.float_values().values(index);
    case v1::FEATURE_TYPE_DOUBLE:
      return column.double_values().values(index);
    case v1::FEATURE_TYPE_INT64:
      return static_cast<int64_t>(column.int64_values().values(index));
    case v1::FEATURE_TYPE_BOOL:
      return column.bool_values().values(index);
    case v1::FEATURE_TYPE_STRING:
      return column.string_values().values(index);
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      const auto& values = column.float_vector_values().values(index).values();
      return std::vector<float>(values.begin(), values.end());
    }
    default:
      return TestValue();
  }
}

inline v1::FeatureRef Ref(const std::string& group, const std::string& feature) {
  v1::FeatureRef ref;
  ref.set_group(group);
  ref.set_feature(feature);
  return ref;
}

// A lookup of `features` for the entity key columns `keys` ((entity, keys); "" names none), with
// event times.
inline v1::LookupOnlineRequest LookupRequest(
    const std::vector<v1::FeatureRef>& features,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& keys) {
  v1::LookupOnlineRequest request;
  for (const v1::FeatureRef& ref : features) *request.add_features() = ref;
  for (const auto& [entity, values] : keys) {
    v1::EntityKeys* column = request.add_entity_keys();
    column->set_entity(entity);
    for (const std::string& key : values) column->add_keys(key);
  }
  request.set_include_event_times(true);
  return request;
}

}  // namespace fabrique::features::testing

#endif  // FABRIQUE_TESTS_FEATURES_STORAGE_STORAGE_TEST_UTIL_H_
