#ifndef FABRIQUE_LIBS_FEATURES_AGGREGATION_AGGREGATION_PLAN_H_
#define FABRIQUE_LIBS_FEATURES_AGGREGATION_AGGREGATION_PLAN_H_

// AggregationPlan: an aggregation group's spec, checked against its source group and resolved
// into what ingest, lookup and training sets need: the tile length, the lateness bound, one slot
// per aggregation (its input feature, function and windows in whole tiles), the output features
// and the tile pyramid.
//
// Window rule: at as-of time T, with S = floor(T / d) * d, a window of k tiles covers the
// source events with event time in [S - k d, T]. Null inputs are skipped (COUNT of a feature
// counts its non-null values; COUNT without one counts rows).
//
// Output features, in spec order, aggregation by aggregation then window by window, are named
// "<name>_<window>", where name defaults to "<feature>_<function>" ("count" for a row count)
// and the window is written in the largest unit that divides it ("90s", "10m", "1h", "1d").
// COUNT is INT64, every other function DOUBLE.
//
// Immutable and thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/expressions/expression.h"

namespace fabrique::features {

// One input of the plan's aggregations: a source feature (empty: the rows themselves) under a
// filter. Aggregations of the same feature and filter share it, and so share one slot of every
// TileState: its index in the plan's inputs.
struct PlannedSlot {
  std::string feature;
  std::string filter_text;  // The filter as declared; empty for none.
  // Rows where it is false or null are left out; null = every row counts.
  std::shared_ptr<const Expression> filter;
  uint8_t fields = 0;  // What the functions reading it need stored (SlotField bits).
};

// One aggregation of the plan.
struct PlannedAggregation {
  std::string feature;  // The source feature; empty for a row count.
  v1::AggregationFunction function = v1::AGGREGATION_FUNCTION_UNSPECIFIED;
  std::string name;                   // Prefix of its output features.
  std::vector<int64_t> window_tiles;  // Each window, in tiles.
  std::vector<std::string> outputs;   // Output feature names, one per window.
  // Rows where it is false or null are left out; null = every row counts.
  std::shared_ptr<const Expression> filter;
  int slot = 0;  // Its input in AggregationPlan::slots(), and slot in a TileState.
};

// The inputs of one slot over the rows of a batch.
struct SlotInputs {
  std::vector<double> values;    // One per row (0 where absent).
  std::vector<uint8_t> present;  // 1 where the row counts for this aggregation.
};

class AggregationPlan {
 public:
  // The tile length when the spec sets none.
  static constexpr int64_t kDefaultTileMicros = 60'000'000;

  // INVALID_ARGUMENT saying what to fix: no source, no aggregation, an unknown or non-numeric
  // feature, a missing function, a window <= 0 or not a whole number of tiles (naming the
  // nearest valid ones), a bad name, duplicate output names, a filter that does not compile
  // (the expression's own error) or is not BOOL.
  static absl::StatusOr<std::shared_ptr<const AggregationPlan>> Create(
      const v1::AggregationSpec& spec, const v1::FeatureGroup& source);

  const std::string& source_group() const { return source_group_; }
  int64_t tile_micros() const { return tile_micros_; }
  // 0 = no bound.
  int64_t lateness_micros() const { return lateness_micros_; }
  const std::vector<PlannedAggregation>& aggregations() const { return aggregations_; }
  // The distinct inputs of the aggregations, in order of first use.
  const std::vector<PlannedSlot>& slots() const { return slots_; }
  // The fields of each slot, as a TileState of this plan is made.
  const std::vector<uint8_t>& slot_fields() const { return slot_fields_; }
  const TilePyramid& pyramid() const { return pyramid_; }
  // Source features the aggregations and their filters read, each once, sorted.
  const std::vector<std::string>& input_features() const { return input_features_; }

  // The output features, in order.
  std::vector<v1::FeatureSpec> OutputFeatures() const;
  // The (aggregation, window) of an output feature, or nullopt.
  std::optional<std::pair<int, int>> FindOutput(absl::string_view feature) const;

  // Each slot's inputs over `rows` (rows whose `skip` entry is non-zero are absent; empty =
  // none). A column is found by feature name; an absent column reads as null. INVALID_ARGUMENT for
  // a column of a non-numeric type or of the wrong length.
  absl::Status Inputs(const v1::RowBatch& rows, absl::Span<const uint8_t> skip,
                      std::vector<SlotInputs>* out) const;

 private:
  AggregationPlan(int64_t tile_micros, TilePyramid pyramid)
      : tile_micros_(tile_micros), pyramid_(pyramid) {}

  std::string source_group_;
  int64_t tile_micros_;
  int64_t lateness_micros_ = 0;
  std::vector<PlannedAggregation> aggregations_;
  std::vector<PlannedSlot> slots_;
  std::vector<uint8_t> slot_fields_;
  std::vector<std::string> input_features_;
  TilePyramid pyramid_;
};

// A duration in the largest unit that divides it exactly: "90s", "10m", "1h", "36h", "1d".
std::string WindowLabel(int64_t micros);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_AGGREGATION_AGGREGATION_PLAN_H_
