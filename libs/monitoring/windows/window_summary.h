#ifndef FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SUMMARY_H_
#define FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SUMMARY_H_

// What one window of one model version keeps of its records: counts, the last prediction time,
// and a column summary (window_column.h) per input position and per output column. Its size
// depends on the columns and the sketches' parameters, never on the records counted.
//
// Columns:
//   inputs           one per position of PredictionRecord.inputs; a record with fewer inputs
//                    counts the rest as missing. A float vector pools its elements.
//   outputs          a ModelOutput of one element is the column of its name (a binary
//                    classifier's P(class 1), a regressor's prediction, as the trainer's
//                    reference profile names them); one of n > 1 elements is n columns
//                    "<name>_<i>" (a multiclass model's probability of class i), since
//                    prediction drift is a shift of each of them. Numeric.
//   predicted_label  categorical, for the records that carry one.
// Output columns count the records that carry them, in the order first seen.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/windows/window_column.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

// The name of the column of predicted labels.
inline constexpr char kPredictedLabelColumn[] = "predicted_label";

class WindowSummary {
 public:
  // Counts one record.
  void Add(const v1::PredictionRecord& record);
  // Adds every record `other` counted (columns matched by position and name).
  void Merge(const WindowSummary& other);

  int64_t predictions() const { return predictions_; }
  int64_t shadow_predictions() const { return shadow_; }
  int64_t canary_predictions() const { return canary_; }
  absl::Time last_prediction_time() const { return last_prediction_time_; }
  const std::vector<WindowColumn>& inputs() const { return inputs_; }
  const std::vector<std::pair<std::string, WindowColumn>>& outputs() const { return outputs_; }

  // What WindowSource answers for this summary, which covered [from, to).
  LiveSummaries ToLive(absl::Time from, absl::Time to) const;

  // The bytes held in memory, roughly.
  size_t ApproxBytes() const;

  // Versioned bytes: counts, then each column's DistributionProfile. Decode returns DATA_LOSS
  // for bytes that are not a window summary.
  std::string Encode() const;
  static absl::StatusOr<WindowSummary> Decode(absl::string_view bytes);

 private:
  WindowColumn& Output(const std::string& name);
  // Counts one output's elements in its columns.
  void AddOutput(const v1::ModelOutput& output);

  int64_t predictions_ = 0;
  int64_t shadow_ = 0;
  int64_t canary_ = 0;
  absl::Time last_prediction_time_ = absl::InfinitePast();
  std::vector<WindowColumn> inputs_;
  std::vector<std::pair<std::string, WindowColumn>> outputs_;
  // Position in outputs_ of each output column, by name.
  absl::flat_hash_map<std::string, size_t> output_index_;
  // Column positions of each element of a multi-element output, by output name: spares a name
  // built per element per record.
  absl::flat_hash_map<std::string, std::vector<size_t>> element_columns_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SUMMARY_H_
