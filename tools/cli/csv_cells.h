#ifndef FABRIQUE_TOOLS_CLI_CSV_CELLS_H_
#define FABRIQUE_TOOLS_CLI_CSV_CELLS_H_

// Turns CSV text cells into typed feature values and event times, for `fabrique features
// ingest`. A row is parsed whole into Cells before anything is added to a batch, so a bad cell
// rejects its row without leaving the batch's columns of unequal length.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::cli {

// One parsed cell; which member holds the value follows the feature's type.
struct Cell {
  bool is_null = false;       // The CSV cell was empty.
  double number = 0;          // FLOAT, DOUBLE.
  int64_t integer = 0;        // INT64, and BOOL as 0/1.
  absl::string_view text;     // STRING; points into the CSV fields, valid until the next row.
  std::vector<float> vector;  // FLOAT_VECTOR, written "1;2;3".
};

// Parses `text` as a value of `type` into `cell`; INVALID_ARGUMENT says what was expected.
absl::Status ParseCell(absl::string_view text, v1::FeatureType type, Cell* cell);

// Parses an event time: RFC 3339 ("2026-11-24T10:00:00Z") or integer Unix microseconds.
absl::StatusOr<int64_t> ParseEventTimeMicros(absl::string_view text);

// Appends `cell` to `column` (a null appends the type's zero value and sets is_null).
void AppendCell(const Cell& cell, v1::FeatureType type, v1::ValueColumn* column);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CSV_CELLS_H_
