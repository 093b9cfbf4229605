#include "libs/monitoring/backtest/row_resolution.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::monitoring {
namespace {

using Labels = absl::Span<const std::string>;
// Counts row `row` out, for the reason given.
using Skip = std::function<void(size_t row, const absl::Status& why)>;

absl::Status Unusable(absl::string_view why) { return absl::InvalidArgumentError(why); }

// The index of class `name`: its position among the class labels; without class labels, a
// binary model's "0"/"false"/"1"/"true" or a multi-class model's decimal index.
absl::StatusOr<int64_t> ClassOfName(const std::string& name, Labels class_labels, bool binary) {
  for (size_t i = 0; i < class_labels.size(); ++i) {
    if (class_labels[i] == name) return static_cast<int64_t>(i);
  }
  if (class_labels.empty()) {
    if (binary && (name == "0" || name == "false")) return 0;
    if (binary && (name == "1" || name == "true")) return 1;
    int64_t index = 0;
    if (!binary && absl::SimpleAtoi(name, &index) && index >= 0) return index;
  }
  return Unusable(absl::StrCat("'", name, "' is not one of the model's classes"));
}

// A label held as a number that must be a class index: an integer >= 0 (exactly).
absl::StatusOr<int64_t> ClassOfNumber(double value) {
  if (!std::isfinite(value) || value < 0 || value != std::floor(value)) {
    return Unusable(absl::StrCat("label ", value, " is not a class index"));
  }
  return static_cast<int64_t>(value);
}

absl::StatusOr<int64_t> ClassOfLabel(const v1::Value& label, Labels class_labels, bool binary) {
  int64_t index = 0;
  switch (label.kind_case()) {
    case v1::Value::kBoolValue:
      if (!binary) return Unusable("a true/false label does not name one of several classes");
      return label.bool_value() ? 1 : 0;
    case v1::Value::kStringValue:
      return ClassOfName(label.string_value(), class_labels, binary);
    case v1::Value::kInt64Value:
      if (label.int64_value() < 0) return Unusable("a negative label is not a class index");
      index = label.int64_value();
      break;
    case v1::Value::kFloatValue: {
      ASSIGN_OR_RETURN(index, ClassOfNumber(label.float_value()));
      break;
    }
    case v1::Value::kDoubleValue: {
      ASSIGN_OR_RETURN(index, ClassOfNumber(label.double_value()));
      break;
    }
    default:
      return Unusable("the label is missing or a vector, not a class");
  }
  if (binary && index > 1) return Unusable(absl::StrCat("label ", index, " is not 0 or 1"));
  return index;
}

absl::StatusOr<double> TargetOfLabel(const v1::Value& label) {
  double value = 0;
  switch (label.kind_case()) {
    case v1::Value::kFloatValue:
      value = label.float_value();
      break;
    case v1::Value::kDoubleValue:
      value = label.double_value();
      break;
    case v1::Value::kInt64Value:
      value = static_cast<double>(label.int64_value());
      break;
    default:
      return Unusable("a regression label must be a number");
  }
  if (!std::isfinite(value)) return Unusable("the label is not a finite number");
  return value;
}

// P(class 1) of a binary row: its score, or its predicted label as 0 or 1.
absl::StatusOr<double> BinaryScore(const LabelledRow& row, Labels class_labels) {
  if (row.scores.empty()) {
    if (row.predicted_label.empty()) return Unusable("the row has neither a score nor a label");
    ASSIGN_OR_RETURN(int64_t predicted, ClassOfName(row.predicted_label, class_labels, true));
    return static_cast<double>(predicted);
  }
  if (row.scores.size() > 2) {
    return Unusable(
        absl::StrCat(row.scores.size(), " scores for a binary model (1 or 2 expected)"));
  }
  const double p = row.scores.back();
  if (!(p >= 0 && p <= 1)) return Unusable(absl::StrCat("score ", p, " is not a probability"));
  return p;
}

void ResolveBinary(absl::Span<const LabelledRow> rows, Labels class_labels, ResolvedRows& out,
                   const Skip& skip) {
  out.classes = 2;
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<int64_t> label = ClassOfLabel(rows[i].label, class_labels, true);
    if (!label.ok()) {
      skip(i, label.status());
      continue;
    }
    absl::StatusOr<double> p = BinaryScore(rows[i], class_labels);
    if (!p.ok()) {
      skip(i, p.status());
      continue;
    }
    out.all_scored &= !rows[i].scores.empty();
    out.labels.push_back(*label);
    out.scores.push_back(*p);
    out.predicted.push_back(*p >= 0.5 ? 1 : 0);
  }
}

// One multi-class row read before the number of classes is known.
struct MulticlassRow {
  size_t index;
  int64_t label;
  int64_t predicted;
  const std::vector<double>* scores;  // nullptr: the predicted label only
};

absl::StatusOr<MulticlassRow> ReadMulticlass(size_t index, const LabelledRow& row,
                                             Labels class_labels, size_t width) {
  ASSIGN_OR_RETURN(int64_t label, ClassOfLabel(row.label, class_labels, false));
  if (row.scores.empty()) {
    if (row.predicted_label.empty()) return Unusable("the row has neither scores nor a label");
    ASSIGN_OR_RETURN(int64_t predicted, ClassOfName(row.predicted_label, class_labels, false));
    return MulticlassRow{index, label, predicted, nullptr};
  }
  if (row.scores.size() != width) {
    return Unusable(absl::StrCat(row.scores.size(), " scores where ", width, " are expected"));
  }
  size_t best = 0;
  for (size_t c = 0; c < width; ++c) {
    if (!(std::isfinite(row.scores[c]) && row.scores[c] >= 0)) {
      return Unusable(absl::StrCat("score ", row.scores[c], " is not a probability"));
    }
    if (row.scores[c] > row.scores[best]) best = c;
  }
  return MulticlassRow{index, label, static_cast<int64_t>(best), &row.scores};
}

void ResolveMulticlass(absl::Span<const LabelledRow> rows, Labels class_labels, ResolvedRows& out,
                       const Skip& skip) {
  size_t width = class_labels.size();
  for (size_t i = 0; width == 0 && i < rows.size(); ++i) width = rows[i].scores.size();
  std::vector<MulticlassRow> read;
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<MulticlassRow> row = ReadMulticlass(i, rows[i], class_labels, width);
    if (row.ok()) {
      read.push_back(*row);
    } else {
      skip(i, row.status());
    }
  }
  int64_t classes = static_cast<int64_t>(width);
  if (classes == 0) {
    for (const MulticlassRow& row : read) {
      classes = std::max({classes, row.label + 1, row.predicted + 1});
    }
    classes = std::max<int64_t>(classes, 2);
  }
  out.classes = static_cast<int>(classes);
  for (const MulticlassRow& row : read) {
    if (row.label >= classes || row.predicted >= classes) {
      skip(row.index, Unusable(absl::StrCat("class index ", std::max(row.label, row.predicted),
                                            " is beyond the model's ", classes, " classes")));
      continue;
    }
    if (row.scores != nullptr) {
      out.scores.insert(out.scores.end(), row.scores->begin(), row.scores->end());
    } else {
      out.all_scored = false;
      for (int64_t c = 0; c < classes; ++c) out.scores.push_back(c == row.predicted ? 1 : 0);
    }
    out.labels.push_back(row.label);
    out.predicted.push_back(row.predicted);
  }
}

void ResolveRegression(absl::Span<const LabelledRow> rows, ResolvedRows& out, const Skip& skip) {
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StatusOr<double> target = TargetOfLabel(rows[i].label);
    if (!target.ok()) {
      skip(i, target.status());
      continue;
    }
    if (rows[i].scores.empty() || !std::isfinite(rows[i].scores[0])) {
      skip(i, Unusable("the row has no finite predicted value"));
      continue;
    }
    out.targets.push_back(*target);
    out.scores.push_back(rows[i].scores[0]);
  }
}

}  // namespace

absl::StatusOr<ResolvedRows> ResolveRows(v1::Task task, absl::Span<const LabelledRow> rows,
                                         Labels class_labels) {
  for (const LabelledRow& row : rows) {
    if (row.task != v1::TASK_UNSPECIFIED && row.task != task) {
      return absl::InvalidArgumentError(absl::StrCat("a row of task ", v1::Task_Name(row.task),
                                                     " among rows of ", v1::Task_Name(task)));
    }
  }
  ResolvedRows out;
  const auto skip = [&out](size_t row, const absl::Status& why) {
    if (out.skipped++ == 0) out.skip_reason = absl::StrCat("row ", row, ": ", why.message());
  };
  switch (task) {
    case v1::TASK_BINARY_CLASSIFICATION:
      if (!class_labels.empty() && class_labels.size() != 2) {
        return absl::InvalidArgumentError(
            absl::StrCat("a binary model has two class labels, not ", class_labels.size()));
      }
      ResolveBinary(rows, class_labels, out, skip);
      return out;
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      if (class_labels.size() == 1) {
        return absl::InvalidArgumentError("a multi-class model has at least two class labels");
      }
      ResolveMulticlass(rows, class_labels, out, skip);
      return out;
    case v1::TASK_REGRESSION:
      ResolveRegression(rows, out, skip);
      return out;
    default:
      return absl::InvalidArgumentError("the model's task is not set");
  }
}

}  // namespace fabrique::monitoring
