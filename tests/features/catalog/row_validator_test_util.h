#ifndef FABRIQUE_TESTS_FEATURES_CATALOG_ROW_VALIDATOR_TEST_UTIL_H_
#define FABRIQUE_TESTS_FEATURES_CATALOG_ROW_VALIDATOR_TEST_UTIL_H_

// A feature group with every kind of expectation, and a builder of row batches for it.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features::testing {

// "tx", at schema version 3, retention 30 days. Features, by index:
//   0 amount    float         min 0, max 1000, finite
//   1 score     double        not_null, finite
//   2 ratio     double        min 0, max 1 (NaN passes: not finite-checked)
//   3 count     int64         min 0, max 100
//   4 channel   int64         allowed 1, 2, 3
//   5 country   string        max_string_length 2, allowed "fr", "de", "us"
//   6 flag      bool          allowed true
//   7 embedding float_vector  vector_length 3, finite
//   8 note      string        nothing checked
inline v1::FeatureGroup TxGroup() {
  v1::FeatureGroup group;
  group.set_schema_version(3);
  v1::FeatureGroupSpec& spec = *group.mutable_spec();
  spec.set_name("tx");
  spec.set_entity("customer");
  spec.mutable_retention()->set_seconds(30 * 24 * 3600);
  auto add = [&spec](const char* name, v1::FeatureType type) {
    v1::FeatureSpec* feature = spec.add_features();
    feature->set_name(name);
    feature->set_type(type);
    return feature->mutable_expectations();
  };
  v1::FeatureExpectations* e = add("amount", v1::FEATURE_TYPE_FLOAT);
  e->mutable_min_value()->set_value(0);
  e->mutable_max_value()->set_value(1000);
  e->set_finite(true);
  e = add("score", v1::FEATURE_TYPE_DOUBLE);
  e->set_not_null(true);
  e->set_finite(true);
  e = add("ratio", v1::FEATURE_TYPE_DOUBLE);
  e->mutable_min_value()->set_value(0);
  e->mutable_max_value()->set_value(1);
  e = add("count", v1::FEATURE_TYPE_INT64);
  e->mutable_min_value()->set_value(0);
  e->mutable_max_value()->set_value(100);
  e = add("channel", v1::FEATURE_TYPE_INT64);
  for (int64_t channel : {1, 2, 3}) e->add_allowed_values()->set_int64_value(channel);
  e = add("country", v1::FEATURE_TYPE_STRING);
  e->set_max_string_length(2);
  for (const char* country : {"fr", "de", "us"}) e->add_allowed_values()->set_string_value(country);
  e = add("flag", v1::FEATURE_TYPE_BOOL);
  e->add_allowed_values()->set_bool_value(true);
  e = add("embedding", v1::FEATURE_TYPE_FLOAT_VECTOR);
  e->set_finite(true);
  spec.mutable_features(7)->set_vector_length(3);
  add("note", v1::FEATURE_TYPE_STRING);
  return group;
}

// Builds a RowBatch column by column, then lets tests break single values.
class BatchBuilder {
 public:
  // `rows` rows with keys "k0", "k1", ... all at `event_time_micros`.
  BatchBuilder(int rows, int64_t event_time_micros) : rows_(rows) {
    for (int row = 0; row < rows; ++row) {
      batch_.add_entity_keys("k" + std::to_string(row));
      batch_.add_event_time_unix_micros(event_time_micros);
    }
  }

  void Floats(const std::string& name, const std::vector<float>& values) {
    v1::FloatList* list = Add(name)->mutable_float_values();
    for (float v : values) list->add_values(v);
  }
  void Doubles(const std::string& name, const std::vector<double>& values) {
    v1::DoubleList* list = Add(name)->mutable_double_values();
    for (double v : values) list->add_values(v);
  }
  void Int64s(const std::string& name, const std::vector<int64_t>& values) {
    v1::Int64List* list = Add(name)->mutable_int64_values();
    for (int64_t v : values) list->add_values(v);
  }
  void Bools(const std::string& name, const std::vector<bool>& values) {
    v1::BoolList* list = Add(name)->mutable_bool_values();
    for (bool v : values) list->add_values(v);
  }
  void Strings(const std::string& name, const std::vector<std::string>& values) {
    v1::StringList* list = Add(name)->mutable_string_values();
    for (const std::string& v : values) list->add_values(v);
  }
  void Vectors(const std::string& name, const std::vector<std::vector<float>>& values) {
    v1::FloatVectorList* list = Add(name)->mutable_float_vector_values();
    for (const std::vector<float>& v : values) {
      v1::FloatVector* vector = list->add_values();
      for (float x : v) vector->add_values(x);
    }
  }

  void SetKey(int row, const std::string& key) { batch_.set_entity_keys(row, key); }
  void SetTime(int row, int64_t micros) { batch_.set_event_time_unix_micros(row, micros); }
  void SetFloat(const std::string& name, int row, float v) {
    Find(name)->mutable_float_values()->set_values(row, v);
  }
  void SetDouble(const std::string& name, int row, double v) {
    Find(name)->mutable_double_values()->set_values(row, v);
  }
  void SetInt64(const std::string& name, int row, int64_t v) {
    Find(name)->mutable_int64_values()->set_values(row, v);
  }
  void SetBool(const std::string& name, int row, bool v) {
    Find(name)->mutable_bool_values()->set_values(row, v);
  }
  void SetString(const std::string& name, int row, const std::string& v) {
    Find(name)->mutable_string_values()->set_values(row, v);
  }
  void SetVector(const std::string& name, int row, const std::vector<float>& v) {
    v1::FloatVector* vector = Find(name)->mutable_float_vector_values()->mutable_values(row);
    vector->clear_values();
    for (float x : v) vector->add_values(x);
  }
  void SetNull(const std::string& name, int row) {
    v1::ValueColumn* column = Find(name);
    while (column->is_null_size() < rows_) column->add_is_null(false);
    column->set_is_null(row, true);
  }

  const v1::RowBatch& batch() const { return batch_; }
  v1::RowBatch& mutable_batch() { return batch_; }

 private:
  v1::ValueColumn* Add(const std::string& name) {
    v1::FeatureColumn* column = batch_.add_columns();
    column->mutable_feature()->set_feature(name);
    return column->mutable_values();
  }
  v1::ValueColumn* Find(const std::string& name) {
    for (v1::FeatureColumn& column : *batch_.mutable_columns()) {
      if (column.feature().feature() == name) return column.mutable_values();
    }
    FAIL("no column " << name);
    return nullptr;
  }

  int rows_;
  v1::RowBatch batch_;
};

}  // namespace fabrique::features::testing

#endif  // FABRIQUE_TESTS_FEATURES_CATALOG_ROW_VALIDATOR_TEST_UTIL_H_
