#include "libs/training/training_set_table.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/features/columns/value_column.h"

namespace fabrique::training {
namespace {

bool IsNull(const v1::ValueColumn& column, int i) {
  return i < column.is_null_size() && column.is_null(i);
}

// The value of row `i` of a numeric column as a double; NaN when null.
double NumberAt(const v1::ValueColumn& column, int i) {
  if (IsNull(column, i)) return NAN;
  switch (column.values_case()) {
    case v1::ValueColumn::kFloatValues:
      return column.float_values().values(i);
    case v1::ValueColumn::kDoubleValues:
      return column.double_values().values(i);
    case v1::ValueColumn::kInt64Values:
      return static_cast<double>(column.int64_values().values(i));
    case v1::ValueColumn::kBoolValues:
      return column.bool_values().values(i) ? 1.0 : 0.0;
    default:
      return NAN;
  }
}

}  // namespace

absl::StatusOr<TrainingSetTable> TrainingSetTable::Start(const v1::TrainingSetHeader& header,
                                                         v1::Task task) {
  TrainingSetTable out;
  out.task_ = task;
  for (const v1::VersionedFeatureRef& feature : header.features()) {
    RawColumn& column = out.table_.features.columns.emplace_back();
    column.name = absl::StrCat(feature.ref().group(), ":", feature.ref().feature());
    const v1::FeatureType type = feature.type();
    if (type == v1::FEATURE_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("feature ", column.name, " has no type"));
    }
    column.categorical = type == v1::FEATURE_TYPE_STRING;
    column.width = 0;  // Vectors: learned from the first value; scalars: set below.
    if (type != v1::FEATURE_TYPE_FLOAT_VECTOR) column.width = 1;
    out.types_.push_back(type);
  }
  const v1::FeatureType label = header.label_type();
  if (label == v1::FEATURE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("the training set's header gives the label no type");
  }
  if (task == v1::TASK_REGRESSION &&
      (label == v1::FEATURE_TYPE_STRING || label == v1::FEATURE_TYPE_FLOAT_VECTOR ||
       label == v1::FEATURE_TYPE_BOOL)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a regression needs a numeric label, and the label is ", v1::FeatureType_Name(label)));
  }
  if (task != v1::TASK_REGRESSION &&
      (label == v1::FEATURE_TYPE_FLOAT || label == v1::FEATURE_TYPE_DOUBLE ||
       label == v1::FEATURE_TYPE_FLOAT_VECTOR)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a classification needs bool, int64 or string classes, and the label is ",
                     v1::FeatureType_Name(label)));
  }
  out.string_classes_ = label == v1::FEATURE_TYPE_STRING;
  return out;
}

absl::Status TrainingSetTable::Add(const v1::TrainingSetRows& rows) {
  const int n = rows.event_time_unix_micros_size();
  if (rows.features_size() != static_cast<int>(types_.size())) {
    return absl::InvalidArgumentError(absl::StrCat("a chunk has ", rows.features_size(),
                                                   " feature columns, the header ", types_.size()));
  }
  if (features::ColumnSize(rows.labels()) != n) {
    return absl::InvalidArgumentError("a chunk's labels do not match its rows");
  }
  for (int f = 0; f < rows.features_size(); ++f) {
    if (features::ColumnSize(rows.features(f).values()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a chunk's column ", table_.features.columns[f].name, " does not match its rows"));
    }
  }
  for (int i = 0; i < n; ++i) {
    const v1::ValueColumn& label = rows.labels();
    if (IsNull(label, i)) {
      ++rows_without_label_;
      continue;
    }
    if (string_classes_) {
      string_labels_.push_back(label.string_values().values(i));
      table_.labels.push_back(0);  // Given its index by FinalizeLabels.
    } else {
      const double y = NumberAt(label, i);
      if (task_ != v1::TASK_REGRESSION && y < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("class label ", y, " is negative: classes are 0, 1, ..."));
      }
      table_.labels.push_back(y);
    }
    event_times_.push_back(rows.event_time_unix_micros(i));
    for (int f = 0; f < rows.features_size(); ++f) {
      RawColumn& column = table_.features.columns[f];
      const v1::ValueColumn& values = rows.features(f).values();
      if (column.categorical) {
        const bool null = IsNull(values, i);
        column.strings.push_back(null ? std::string() : values.string_values().values(i));
        if (null) {
          column.missing.resize(table_.features.rows, 0);
          column.missing.push_back(1);
        } else if (!column.missing.empty()) {
          column.missing.push_back(0);
        }
      } else if (types_[f] == v1::FEATURE_TYPE_FLOAT_VECTOR) {
        if (IsNull(values, i)) {
          if (column.width == 0)
            return absl::InvalidArgumentError(absl::StrCat(
                "feature ", column.name, "'s first value is null: its vector length is unknown"));
          column.numeric.insert(column.numeric.end(), column.width, NAN);
          continue;
        }
        const auto& vector = values.float_vector_values().values(i).values();
        if (column.width == 0) column.width = static_cast<int>(vector.size());
        if (vector.size() != static_cast<int>(column.width)) {
          return absl::InvalidArgumentError(absl::StrCat("feature ", column.name,
                                                         " has vectors of ", column.width, " and ",
                                                         vector.size(), " values"));
        }
        column.numeric.insert(column.numeric.end(), vector.begin(), vector.end());
      } else {
        column.numeric.push_back(static_cast<float>(NumberAt(values, i)));
      }
    }
    ++table_.features.rows;
  }
  return absl::OkStatus();
}

void TrainingSetTable::FinalizeLabels(LabeledTable* table) const {
  if (!string_classes_) return;
  std::vector<std::string> names = string_labels_;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  absl::flat_hash_map<std::string, int> index;
  for (size_t c = 0; c < names.size(); ++c) index[names[c]] = static_cast<int>(c);
  for (size_t i = 0; i < string_labels_.size(); ++i) table->labels[i] = index[string_labels_[i]];
  class_names_ = std::move(names);
}

absl::Status TrainingSetTable::Split(const v1::DataSplit& split, LabeledTable* train,
                                     LabeledTable* validation) const {
  LabeledTable all = table_;
  FinalizeLabels(&all);
  for (RawColumn& column : all.features.columns) {
    if (column.width == 0) column.width = 1;  // A vector never seen: no rows at all.
  }
  std::vector<int64_t> train_rows, validation_rows;
  const int64_t n = all.features.rows;
  if (split.has_by_time()) {
    const int64_t start = google::protobuf::util::TimeUtil::TimestampToMicroseconds(
        split.by_time().validation_start());
    for (int64_t i = 0; i < n; ++i) {
      (event_times_[i] < start ? train_rows : validation_rows).push_back(i);
    }
  } else {
    const double fraction =
        split.random().validation_fraction() > 0 && split.random().validation_fraction() < 1
            ? split.random().validation_fraction()
            : 0.2;
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(split.random().seed()));
    const int64_t held = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
    validation_rows.assign(order.begin(), order.begin() + held);
    train_rows.assign(order.begin() + held, order.end());
    std::sort(train_rows.begin(), train_rows.end());
    std::sort(validation_rows.begin(), validation_rows.end());
  }
  if (train_rows.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the split leaves no training rows (", n, " rows in all, ", validation_rows.size(),
        " for validation)", split.has_by_time() ? ": move validation_start later" : ""));
  }
  const auto take = [&](const std::vector<int64_t>& rows, LabeledTable* out) {
    out->features = all.features.Take(rows);
    out->labels.clear();
    for (int64_t i : rows) out->labels.push_back(all.labels[i]);
  };
  take(train_rows, train);
  take(validation_rows, validation);
  return absl::OkStatus();
}

}  // namespace fabrique::training
