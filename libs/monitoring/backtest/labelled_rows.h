#ifndef FABRIQUE_LIBS_MONITORING_BACKTEST_LABELLED_ROWS_H_
#define FABRIQUE_LIBS_MONITORING_BACKTEST_LABELLED_ROWS_H_

// One prediction joined to its observed outcome: what back-testing computes from. The row keeps
// the prediction as the model gave it and the label as the business sent it; how they become a
// score and a class (or a target) is decided when metrics are computed, against the model's
// class labels (see ResolveRows in row_resolution.h).
//
// How a PredictionRecord maps to `scores` (LabelledRowOf):
//   the output named "probability" (binary: P(class 1)), "probabilities" (multi-class: one
//   probability per class, in the signature's class_labels order) or "prediction" (regression),
//   as the trainer's modules name them; for any other model its first output. Its values for
//   the row become `scores`; `predicted_label` is copied as inference wrote it. A model that
//   gave no numeric output is back-tested on its predicted label alone (label metrics only).
//
// What an Outcome's label (a v1::Value) may be, as the monitor's intake accepts it:
//   binary       a bool, 0 / 1 (integer or number), or one of the two class labels
//   multi-class  a class index (integer >= 0) or a class label
//   regression   a finite number

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/monitor.pb.h"

namespace fabrique::monitoring {

struct LabelledRow {
  // The model's task; TASK_UNSPECIFIED means "the task the metrics are computed for".
  v1::Task task = v1::TASK_UNSPECIFIED;
  // When the prediction was scored: the window a row falls in.
  absl::Time time = absl::UnixEpoch();
  // The model's numeric answer for the row: binary, P(class 1) (one value; with two values the
  // second is P(class 1)); multi-class, one probability per class; regression, the value.
  // Empty when the model answered with a label only.
  std::vector<double> scores;
  // The class the model predicted, as inference logged it; "" for regression. Used when
  // `scores` is empty.
  std::string predicted_label;
  // The observed outcome.
  v1::Value label;
};

// The row of `record` joined to `outcome`, for a model of `task` (see above for the mapping).
LabelledRow LabelledRowOf(v1::Task task, const v1::PredictionRecord& record,
                          const v1::Outcome& outcome);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_BACKTEST_LABELLED_ROWS_H_
