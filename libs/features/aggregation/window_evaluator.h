#ifndef FABRIQUE_LIBS_FEATURES_AGGREGATION_WINDOW_EVALUATOR_H_
#define FABRIQUE_LIBS_FEATURES_AGGREGATION_WINDOW_EVALUATOR_H_

// Window values computed from raw events rather than tiles, for training sets: the same window
// rule (events with time in [S - k d, T], S = floor(T / d) d) and the same SlotState arithmetic
// as the tiles, so a training value equals the online value the tiles gave at that time.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/aggregation/aggregation_plan.h"

namespace fabrique::features {

// One entity's source events, in ascending event time, with each slot's inputs.
class EntityEvents {
 public:
  explicit EntityEvents(const AggregationPlan& plan) : plan_(plan) {}

  // Appends the rows of `rows` (one entity, ascending time after the events already held).
  absl::Status Append(const v1::RowBatch& rows);
  // Appends rows [begin, end) of a batch whose inputs (AggregationPlan::Inputs) are `inputs`.
  void AppendRange(const v1::RowBatch& rows, const std::vector<SlotInputs>& inputs, int begin,
                   int end);
  void Clear();
  size_t size() const { return times_.size(); }

  // The value of each output (its (aggregation, window) in the plan) as of `as_of_micros`.
  void Evaluate(int64_t as_of_micros, absl::Span<const std::pair<int, int>> outputs,
                std::vector<std::optional<double>>* values) const;

 private:
  const AggregationPlan& plan_;
  std::vector<int64_t> times_;
  std::vector<SlotInputs> inputs_;  // One per slot of the plan, one entry per event.
  std::vector<SlotInputs> scratch_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_AGGREGATION_WINDOW_EVALUATOR_H_
