#ifndef FABRIQUE_LIBS_MONITORING_BACKTEST_ROW_RESOLUTION_H_
#define FABRIQUE_LIBS_MONITORING_BACKTEST_ROW_RESOLUTION_H_

// Labelled rows turned into what the evaluation functions take (libs/training/evaluation.h):
// scores and class indices for classifiers, predictions and targets for regression.
//
// A row that cannot be read (a label of the wrong kind, a NaN score, a probability vector of the
// wrong width, a predicted label that is no class) is left out and counted, with the first
// reason kept: one bad outcome must not hide a window's performance, and the count shows it.
//
//   binary       score: P(class 1), in [0, 1]; without scores the predicted label counts as
//                P = 0 or 1. Label: see labelled_rows.h. Class names are matched against the
//                two class labels; without them "0"/"false" and "1"/"true" are understood.
//   multi-class  scores: one per class, finite and >= 0 (taken as given, not renormalised);
//                without scores the predicted label counts as probability 1 for its class.
//                The number of classes is that of the class labels; without them, the width
//                of the first scored row, or else the largest class index seen plus one.
//   regression   score: the first value, finite; label: a finite number.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/backtest/labelled_rows.h"

namespace fabrique::monitoring {

struct ResolvedRows {
  // Classifiers: the number of classes (2 for binary); 0 for regression.
  int classes = 0;
  // Binary: P(class 1) per row; multi-class: `classes` probabilities per row, row-major;
  // regression: the predicted value per row.
  std::vector<double> scores;
  // Classifiers: the observed class per row.
  std::vector<int64_t> labels;
  // Classifiers: the predicted class per row (P >= 0.5 for binary, the most likely otherwise).
  std::vector<int64_t> predicted;
  // Regression: the observed value per row.
  std::vector<double> targets;
  // Whether every usable row came with the model's scores: metrics of ranking and probability
  // (auc, log_loss, ece) mean nothing over predicted labels alone.
  bool all_scored = true;
  // Rows left out, and why the first of them was.
  int64_t skipped = 0;
  std::string skip_reason;

  int64_t size() const {
    return static_cast<int64_t>(classes == 0 ? targets.size() : labels.size());
  }
};

// The usable rows of `rows` for a model of `task` whose classes are `class_labels` (in output
// index order; may be empty). INVALID_ARGUMENT for TASK_UNSPECIFIED, for a row of another task,
// for binary class labels that are not two, and for multi-class class labels fewer than two.
absl::StatusOr<ResolvedRows> ResolveRows(v1::Task task, absl::Span<const LabelledRow> rows,
                                         absl::Span<const std::string> class_labels);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_BACKTEST_ROW_RESOLUTION_H_
