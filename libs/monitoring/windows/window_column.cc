#include "libs/monitoring/windows/window_column.h"

#include <utility>

namespace fabrique::monitoring {
namespace {

ColumnSummary::Options OfKind(ColumnSummary::Kind kind) {
  ColumnSummary::Options options;
  options.kind = kind;
  return options;
}

}  // namespace

WindowColumn::WindowColumn() : summary_(OfKind(ColumnSummary::Kind::kNumeric)) {}

void WindowColumn::BecomeCategorical() {
  ColumnSummary categorical(OfKind(ColumnSummary::Kind::kCategorical));
  if (summary_.missing_count() > 0) categorical.AddMissing(summary_.missing_count());
  summary_ = std::move(categorical);
}

void WindowColumn::AddNumber(double value) {
  // An unsettled column is numeric already; a categorical one counts the number as missing.
  if (summary_.kind() == ColumnSummary::Kind::kCategorical) return summary_.AddMissing();
  summary_.AddNumber(value);
}

void WindowColumn::AddCategory(absl::string_view value) {
  if (summary_.kind() == ColumnSummary::Kind::kNumeric && !settled()) BecomeCategorical();
  summary_.AddCategory(value);  // A numeric column counts it as missing.
}

void WindowColumn::Add(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kFloatValue:
      return AddNumber(value.float_value());
    case v1::Value::kDoubleValue:
      return AddNumber(value.double_value());
    case v1::Value::kInt64Value:
      return AddNumber(static_cast<double>(value.int64_value()));
    case v1::Value::kBoolValue:
      return AddCategory(value.bool_value() ? "true" : "false");
    case v1::Value::kStringValue:
      return AddCategory(value.string_value());
    case v1::Value::kFloatVectorValue: {
      const auto& elements = value.float_vector_value().values();
      if (elements.empty()) return AddMissing();
      for (const float element : elements) AddNumber(element);
      return;
    }
    case v1::Value::KIND_NOT_SET:
      return AddMissing();
  }
}

void WindowColumn::Merge(const WindowColumn& other) {
  if (other.summary_.kind() == summary_.kind()) {
    summary_.Merge(other.summary_).IgnoreError();  // Same kind: cannot fail.
    return;
  }
  if (!other.settled()) return AddMissing(other.summary_.count());
  if (!settled()) {
    const int64_t missing = summary_.missing_count();
    summary_ = other.summary_;
    if (missing > 0) summary_.AddMissing(missing);
    return;
  }
  AddMissing(other.summary_.count());
}

size_t WindowColumn::ApproxBytes() const {
  size_t bytes = sizeof(*this);
  if (const QuantileSketch* sketch = summary_.sketch(); sketch != nullptr) {
    bytes += static_cast<size_t>(sketch->retained()) * sizeof(double) +
             static_cast<size_t>(sketch->num_levels()) * sizeof(std::vector<double>);
  }
  for (const auto& [name, count] : summary_.categories().Sorted()) {
    bytes += name.size() + sizeof(std::string) + sizeof(count);
  }
  return bytes;
}

}  // namespace fabrique::monitoring
