#include "tools/cli/csv_cells.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace fabrique::cli {
namespace {

absl::Status Expected(absl::string_view text, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read \"", text, "\" as ", what));
}

}  // namespace

absl::Status ParseCell(absl::string_view text, v1::FeatureType type, Cell* cell) {
  cell->is_null = text.empty();
  if (cell->is_null) return absl::OkStatus();
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
    case v1::FEATURE_TYPE_DOUBLE:
      if (!absl::SimpleAtod(trimmed, &cell->number)) return Expected(text, "a number");
      return absl::OkStatus();
    case v1::FEATURE_TYPE_INT64:
      if (!absl::SimpleAtoi(trimmed, &cell->integer)) return Expected(text, "an integer");
      return absl::OkStatus();
    case v1::FEATURE_TYPE_BOOL: {
      bool value = false;
      if (!absl::SimpleAtob(trimmed, &value)) return Expected(text, "true or false");
      cell->integer = value ? 1 : 0;
      return absl::OkStatus();
    }
    case v1::FEATURE_TYPE_STRING:
      cell->text = text;  // Strings keep their spaces: they may be meaningful.
      return absl::OkStatus();
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      cell->vector.clear();
      for (absl::string_view part : absl::StrSplit(trimmed, ';')) {
        float value = 0;
        if (!absl::SimpleAtof(part, &value)) {
          return Expected(text, "a float vector such as 1;2;3");
        }
        cell->vector.push_back(value);
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("the feature has no type");
  }
}

absl::StatusOr<int64_t> ParseEventTimeMicros(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  int64_t micros = 0;
  if (absl::SimpleAtoi(trimmed, &micros)) return micros;
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(trimmed), &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read event time \"", text,
                     "\": expected RFC 3339 (2026-11-24T10:00:00Z) or Unix microseconds"));
  }
  return absl::ToUnixMicros(time);
}

void AppendCell(const Cell& cell, v1::FeatureType type, v1::ValueColumn* column) {
  const bool null = cell.is_null;
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      column->mutable_float_values()->add_values(null ? 0.f : static_cast<float>(cell.number));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column->mutable_double_values()->add_values(null ? 0.0 : cell.number);
      break;
    case v1::FEATURE_TYPE_INT64:
      column->mutable_int64_values()->add_values(null ? 0 : cell.integer);
      break;
    case v1::FEATURE_TYPE_BOOL:
      column->mutable_bool_values()->add_values(!null && cell.integer != 0);
      break;
    case v1::FEATURE_TYPE_STRING:
      column->mutable_string_values()->add_values(null ? std::string() : std::string(cell.text));
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      v1::FloatVector* vector = column->mutable_float_vector_values()->add_values();
      if (!null) vector->mutable_values()->Add(cell.vector.begin(), cell.vector.end());
      break;
    }
    default:
      break;
  }
  column->add_is_null(null);
}

}  // namespace fabrique::cli
