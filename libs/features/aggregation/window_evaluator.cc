#include "libs/features/aggregation/window_evaluator.h"

#include <algorithm>

#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"

namespace fabrique::features {

absl::Status EntityEvents::Append(const v1::RowBatch& rows) {
  absl::Status status = plan_.Inputs(rows, {}, &scratch_);
  if (!status.ok()) return status;
  AppendRange(rows, scratch_, 0, rows.event_time_unix_micros_size());
  return absl::OkStatus();
}

void EntityEvents::AppendRange(const v1::RowBatch& rows, const std::vector<SlotInputs>& inputs,
                               int begin, int end) {
  inputs_.resize(inputs.size());
  for (size_t a = 0; a < inputs.size(); ++a) {
    inputs_[a].values.insert(inputs_[a].values.end(), inputs[a].values.begin() + begin,
                             inputs[a].values.begin() + end);
    inputs_[a].present.insert(inputs_[a].present.end(), inputs[a].present.begin() + begin,
                              inputs[a].present.begin() + end);
  }
  times_.insert(times_.end(), rows.event_time_unix_micros().begin() + begin,
                rows.event_time_unix_micros().begin() + end);
}

void EntityEvents::Clear() {
  times_.clear();
  for (SlotInputs& in : inputs_) {
    in.values.clear();
    in.present.clear();
  }
}

void EntityEvents::Evaluate(int64_t as_of_micros, absl::Span<const std::pair<int, int>> outputs,
                            std::vector<std::optional<double>>* values) const {
  const int64_t d = plan_.tile_micros();
  const int64_t tile_start = FloorDiv(as_of_micros, d) * d;
  const auto end = std::upper_bound(times_.begin(), times_.end(), as_of_micros);
  values->assign(outputs.size(), std::nullopt);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const auto& [a, w] = outputs[o];
    const PlannedAggregation& aggregation = plan_.aggregations()[a];
    const int64_t start = tile_start - aggregation.window_tiles[w] * d;
    SlotState state;
    if (!inputs_.empty()) {
      const SlotInputs& in = inputs_[aggregation.slot];
      for (auto it = std::lower_bound(times_.begin(), end, start); it != end; ++it) {
        const size_t i = static_cast<size_t>(it - times_.begin());
        if (in.present[i]) state.Add(*it, in.values[i]);
      }
    }
    (*values)[o] = FinalizeSlot(aggregation.function, state);
  }
}

}  // namespace fabrique::features
