#include "libs/features/catalog/row_validator.h"

#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/feature_types.h"
#include "libs/features/columns/value_column.h"

namespace fabrique::features {
namespace {

constexpr int64_t kNoCutoff = std::numeric_limits<int64_t>::min();

absl::Duration ToDuration(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

std::string FormatMicros(int64_t micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

}  // namespace

ValidationPlan::ValidationPlan(std::shared_ptr<const v1::FeatureGroup> group,
                               const core::Clock* clock)
    : group_(std::move(group)), clock_(clock != nullptr ? clock : core::Clock::Real()) {}

absl::StatusOr<std::shared_ptr<const ValidationPlan>> ValidationPlan::Build(
    std::shared_ptr<const v1::FeatureGroup> group, const core::Clock* clock) {
  if (group == nullptr) return absl::InvalidArgumentError("ValidationPlan::Build: no group");
  std::shared_ptr<ValidationPlan> plan(new ValidationPlan(std::move(group), clock));
  const v1::FeatureGroupSpec& spec = plan->group_->spec();
  plan->checks_.reserve(spec.features_size());
  for (int32_t i = 0; i < spec.features_size(); ++i) {
    const v1::FeatureSpec& feature = spec.features(i);
    if (feature.type() == v1::FEATURE_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature group \"", spec.name(), "\": feature \"", feature.name(), "\" has no type"));
    }
    if (!plan->index_by_name_.emplace(feature.name(), i).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature group \"", spec.name(), "\": feature \"", feature.name(), "\" is listed twice"));
    }
    plan->checks_.push_back(FeatureCheck::FromSpec(feature));
    if (feature.expectations().not_null()) plan->not_null_features_.push_back(i);
  }
  plan->retention_micros_ = absl::ToInt64Microseconds(ToDuration(spec.retention()));
  ASSIGN_OR_RETURN(plan->derived_, CompileDerivedFeatures(spec));
  return std::shared_ptr<const ValidationPlan>(std::move(plan));
}

int32_t ValidationPlan::FeatureIndex(absl::string_view name) const {
  auto it = index_by_name_.find(name);
  return it == index_by_name_.end() ? -1 : it->second;
}

absl::StatusOr<ValidationResult> ValidationPlan::Validate(const v1::RowBatch& batch,
                                                          const ValidateOptions& options) const {
  const int64_t rows = batch.entity_keys_size();
  if (batch.event_time_unix_micros_size() != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch for feature group \"", group_->spec().name(), "\" has ", rows,
                     " entity keys but ", batch.event_time_unix_micros_size(), " event times"));
  }
  ValidationResult result;
  ASSIGN_OR_RETURN(result.column_features, ResolveColumns(batch, rows));
  result.schema_version = schema_version();
  result.row_count = rows;
  result.row_reasons.assign(rows, 0);

  Marked marked{&batch, RetentionCutoff(), std::vector<int32_t>(rows, -1),
                std::vector<const v1::ValueColumn*>(checks_.size(), nullptr)};
  const RowMarks marks{result.row_reasons.data(), marked.reject_features.data()};
  CheckRows(batch, marked.cutoff, marks);
  for (int c = 0; c < batch.columns_size(); ++c) {
    const int32_t feature = result.column_features[c];
    marked.feature_columns[feature] = &batch.columns(c).values();
    CheckColumn(checks_[feature], batch.columns(c).values(), feature, marks);
  }
  for (int32_t feature : not_null_features_) {
    if (marked.feature_columns[feature] != nullptr) continue;
    for (int64_t row = 0; row < rows; ++row) {
      marks.Mark(row, v1::REJECT_REASON_NULL_VALUE, feature);
    }
  }
  Summarize(marked, options, result);
  return result;
}

absl::StatusOr<std::vector<int32_t>> ValidationPlan::ResolveColumns(const v1::RowBatch& batch,
                                                                    int64_t rows) const {
  const std::string& group_name = group_->spec().name();
  std::vector<int32_t> features(batch.columns_size());
  std::vector<bool> seen(checks_.size(), false);
  for (int c = 0; c < batch.columns_size(); ++c) {
    const v1::FeatureColumn& column = batch.columns(c);
    const v1::FeatureRef& ref = column.feature();
    if (!ref.group().empty() && ref.group() != group_name) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column ", c, " is feature \"", ref.group(), ":", ref.feature(),
          "\" of another group; this batch is for feature group \"", group_name, "\""));
    }
    const int32_t feature = FeatureIndex(ref.feature());
    if (feature < 0) {
      return absl::NotFoundError(absl::StrCat("feature \"", ref.feature(),
                                              "\" not found in feature group \"", group_name,
                                              "\" (schema version ", schema_version(), ")"));
    }
    if (seen[feature]) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature \"", ref.feature(), "\" has more than one column in the batch"));
    }
    seen[feature] = true;
    const FeatureCheck& check = checks_[feature];
    const v1::FeatureType carried = ColumnType(column.values());
    if (carried != check.type) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature \"", check.name, "\" of group \"", group_name, "\" is ",
                       FeatureTypeName(check.type), " but its column carries ",
                       carried == v1::FEATURE_TYPE_UNSPECIFIED ? "no" : FeatureTypeName(carried),
                       " values (", rows, " rows)"));
    }
    const int64_t size = ColumnSize(column.values());
    const int64_t nulls = column.values().is_null_size();
    if (size != rows || (nulls != 0 && nulls != rows)) {
      return absl::InvalidArgumentError(absl::StrCat("column of feature \"", check.name, "\" has ",
                                                     size, " values and ", nulls,
                                                     " is_null flags but the batch has ", rows,
                                                     " rows; give one value per row (and one "
                                                     "is_null flag per row, or none)"));
    }
    features[c] = feature;
  }
  return features;
}

int64_t ValidationPlan::RetentionCutoff() const {
  if (retention_micros_ <= 0) return kNoCutoff;
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  if (now < kNoCutoff + retention_micros_) return kNoCutoff;
  return now - retention_micros_;
}

void ValidationPlan::CheckRows(const v1::RowBatch& batch, int64_t cutoff, RowMarks marks) const {
  const auto& keys = batch.entity_keys();
  const int64_t* times = batch.event_time_unix_micros().data();
  const int64_t rows = keys.size();
  for (int64_t row = 0; row < rows; ++row) {
    if (keys[row].empty()) marks.Mark(row, v1::REJECT_REASON_EMPTY_ENTITY_KEY, -1);
  }
  if (cutoff == kNoCutoff) return;
  for (int64_t row = 0; row < rows; ++row) {
    if (times[row] < cutoff) marks.Mark(row, v1::REJECT_REASON_OUTSIDE_RETENTION, -1);
  }
}

void ValidationPlan::Summarize(const Marked& marked, const ValidateOptions& options,
                               ValidationResult& result) const {
  const uint8_t* reasons = result.row_reasons.data();
  for (int64_t row = 0; row < result.row_count; ++row) {
    if (reasons[row] == 0) continue;
    const auto reason = static_cast<v1::RejectReason>(reasons[row]);
    ++result.rejected_rows;
    ++result.reject_counts[reason];
    if (static_cast<int64_t>(result.rejects.size()) < options.max_reject_details) {
      result.rejects.push_back(DescribeReject(marked, row, reason));
    }
  }
}

v1::RowReject ValidationPlan::DescribeReject(const Marked& marked, int64_t row,
                                             v1::RejectReason reason) const {
  v1::RowReject reject;
  reject.set_row_index(row);
  reject.set_reason(reason);
  const int32_t feature = marked.reject_features[row];
  if (feature >= 0) {
    reject.set_feature(checks_[feature].name);
    reject.set_message(
        DescribeProblem(checks_[feature], marked.feature_columns[feature], row, reason));
  } else if (reason == v1::REJECT_REASON_EMPTY_ENTITY_KEY) {
    reject.set_message("the entity key is empty");
  } else {
    reject.set_message(
        absl::StrCat("event time ", FormatMicros(marked.batch->event_time_unix_micros(row)),
                     " is before the retention window of feature group \"", group_->spec().name(),
                     "\" (", absl::FormatDuration(absl::Microseconds(retention_micros_)),
                     "), which starts at ", FormatMicros(marked.cutoff)));
  }
  return reject;
}

}  // namespace fabrique::features
