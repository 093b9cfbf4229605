// Which labels fit which task, and the reasons given for those that do not.

#include "libs/monitoring/intake/label_check.h"

#include <limits>

#include "catch2/catch.hpp"
#include "intake_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::Bool;
using testing::Double;
using testing::Int;
using testing::String;

std::string Reason(v1::Task task, const v1::Value& label) {
  absl::Status status = CheckLabel(task, label);
  if (status.ok()) return "ok";
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST_CASE("Binary classification takes a bool or 0/1", "[label_check]") {
  const v1::Task binary = v1::TASK_BINARY_CLASSIFICATION;
  CHECK(Reason(binary, Bool(false)) == "ok");
  CHECK(Reason(binary, Int(1)) == "ok");
  CHECK(Reason(binary, Double(0.0)) == "ok");
  CHECK(Reason(binary, Double(0.5)) == "label 0.5 is not 0 or 1 for a binary classification model");
  CHECK(Reason(binary, String("yes")) ==
        "label is a string, expected a bool or 0/1 for a binary classification model");
}

TEST_CASE("Multiclass takes a class name or a class index", "[label_check]") {
  const v1::Task multiclass = v1::TASK_MULTICLASS_CLASSIFICATION;
  CHECK(Reason(multiclass, String("gold")) == "ok");
  CHECK(Reason(multiclass, Int(3)) == "ok");
  CHECK(Reason(multiclass, Int(-1)) == "label -1 is a negative class index");
  CHECK(Reason(multiclass, Double(1.0)) ==
        "label is a double, expected a class name or index for a multiclass model");
}

TEST_CASE("Regression takes a finite number", "[label_check]") {
  const v1::Task regression = v1::TASK_REGRESSION;
  CHECK(Reason(regression, Double(-2.5)) == "ok");
  CHECK(Reason(regression, Int(7)) == "ok");
  CHECK(Reason(regression, Bool(true)) ==
        "label is a bool, expected a number for a regression model");
  CHECK(Reason(regression, Double(std::numeric_limits<double>::quiet_NaN())) ==
        "label nan is not finite for a regression model");
}

TEST_CASE("Any task refuses a missing or vector label; an unknown one takes any single value",
          "[label_check]") {
  v1::Value vector;
  vector.mutable_float_vector_value();
  CHECK(Reason(v1::TASK_UNSPECIFIED, v1::Value()) == "label is missing");
  CHECK(Reason(v1::TASK_UNSPECIFIED, vector) == "label is a float vector, expected a single value");
  CHECK(Reason(v1::TASK_REGRESSION, vector) == "label is a float vector, expected a single value");
  CHECK(Reason(v1::TASK_UNSPECIFIED, String("anything")) == "ok");
}

}  // namespace
}  // namespace fabrique::monitoring
