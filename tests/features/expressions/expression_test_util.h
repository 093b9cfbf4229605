#ifndef FABRIQUE_TESTS_FEATURES_EXPRESSIONS_EXPRESSION_TEST_UTIL_H_
#define FABRIQUE_TESTS_FEATURES_EXPRESSIONS_EXPRESSION_TEST_UTIL_H_

// Builders for the expression tests: a fixed set of typed inputs, batches built column by column,
// and one call that compiles and evaluates.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/features/expressions/expression.h"

namespace fabrique::features::testing {

// a, b: INT64; x, y: DOUBLE; f: FLOAT; s, t: STRING; p, q: BOOL; v: FLOAT_VECTOR.
inline absl::flat_hash_map<std::string, v1::FeatureType> Inputs() {
  return {{"a", v1::FEATURE_TYPE_INT64},  {"b", v1::FEATURE_TYPE_INT64},
          {"x", v1::FEATURE_TYPE_DOUBLE}, {"y", v1::FEATURE_TYPE_DOUBLE},
          {"f", v1::FEATURE_TYPE_FLOAT},  {"s", v1::FEATURE_TYPE_STRING},
          {"t", v1::FEATURE_TYPE_STRING}, {"p", v1::FEATURE_TYPE_BOOL},
          {"q", v1::FEATURE_TYPE_BOOL},   {"v", v1::FEATURE_TYPE_FLOAT_VECTOR}};
}

// A batch of `rows` rows, columns added by name; `nulls` (optional) flags null rows.
class ExprBatch {
 public:
  explicit ExprBatch(int rows) {
    for (int i = 0; i < rows; ++i) {
      batch_.add_entity_keys(absl::StrCat("e", i));
      batch_.add_event_time_unix_micros(1000 + i);
    }
  }
  ExprBatch& Int(const std::string& name, const std::vector<int64_t>& values,
                 const std::vector<bool>& nulls = {}) {
    v1::ValueColumn* column = Add(name, nulls);
    for (int64_t value : values) column->mutable_int64_values()->add_values(value);
    return *this;
  }
  ExprBatch& Double(const std::string& name, const std::vector<double>& values,
                    const std::vector<bool>& nulls = {}) {
    v1::ValueColumn* column = Add(name, nulls);
    for (double value : values) column->mutable_double_values()->add_values(value);
    return *this;
  }
  ExprBatch& Float(const std::string& name, const std::vector<float>& values,
                   const std::vector<bool>& nulls = {}) {
    v1::ValueColumn* column = Add(name, nulls);
    for (float value : values) column->mutable_float_values()->add_values(value);
    return *this;
  }
  ExprBatch& Bool(const std::string& name, const std::vector<bool>& values,
                  const std::vector<bool>& nulls = {}) {
    v1::ValueColumn* column = Add(name, nulls);
    for (bool value : values) column->mutable_bool_values()->add_values(value);
    return *this;
  }
  ExprBatch& String(const std::string& name, const std::vector<std::string>& values,
                    const std::vector<bool>& nulls = {}) {
    v1::ValueColumn* column = Add(name, nulls);
    for (const std::string& value : values) column->mutable_string_values()->add_values(value);
    return *this;
  }
  const v1::RowBatch& batch() const { return batch_; }

 private:
  v1::ValueColumn* Add(const std::string& name, const std::vector<bool>& nulls) {
    v1::FeatureColumn* column = batch_.add_columns();
    column->mutable_feature()->set_feature(name);
    for (bool null : nulls) column->mutable_values()->add_is_null(null);
    return column->mutable_values();
  }
  v1::RowBatch batch_;
};

struct Evaluated {
  v1::FeatureType type = v1::FEATURE_TYPE_UNSPECIFIED;
  v1::ValueColumn column;
  ExpressionWarnings warnings;
  bool null(int row) const { return column.is_null_size() > 0 && column.is_null(row); }
};

// Compiles `text` against Inputs() and evaluates it over `batch`, requiring both to succeed.
inline Evaluated Eval(const std::string& text, const ExprBatch& batch) {
  absl::StatusOr<std::unique_ptr<Expression>> compiled = Expression::Compile(text, Inputs());
  INFO(text << ": " << compiled.status().ToString());
  REQUIRE(compiled.ok());
  Evaluated result;
  result.type = (*compiled)->result_type();
  absl::Status status = (*compiled)->Evaluate(batch.batch(), &result.column, &result.warnings);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return result;
}

inline absl::Status CompileError(const std::string& text) {
  absl::StatusOr<std::unique_ptr<Expression>> compiled = Expression::Compile(text, Inputs());
  return compiled.ok() ? absl::OkStatus() : compiled.status();
}

}  // namespace fabrique::features::testing

#endif  // FABRIQUE_TESTS_FEATURES_EXPRESSIONS_EXPRESSION_TEST_UTIL_H_
