#include "libs/monitoring/backtest/labelled_rows.h"

namespace fabrique::monitoring {
namespace {

// The output the trainer's modules give for `task`.
const char* ScoreOutputName(v1::Task task) {
  switch (task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return "probabilities";
    case v1::TASK_REGRESSION:
      return "prediction";
    default:
      return "probability";
  }
}

const v1::ModelOutput* ScoreOutput(v1::Task task, const v1::PredictionRecord& record) {
  if (record.outputs().empty()) return nullptr;
  for (const v1::ModelOutput& output : record.outputs()) {
    if (output.name() == ScoreOutputName(task)) return &output;
  }
  return &record.outputs(0);
}

}  // namespace

LabelledRow LabelledRowOf(v1::Task task, const v1::PredictionRecord& record,
                          const v1::Outcome& outcome) {
  LabelledRow row;
  row.task = task;
  row.time =
      absl::FromUnixSeconds(record.time().seconds()) + absl::Nanoseconds(record.time().nanos());
  if (const v1::ModelOutput* output = ScoreOutput(task, record)) {
    row.scores.assign(output->values().begin(), output->values().end());
  }
  row.predicted_label = record.predicted_label();
  row.label = outcome.label();
  return row;
}

}  // namespace fabrique::monitoring
