#include "libs/features/store/training_set_build.h"

#include <limits>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/classification.h"
#include "libs/features/storage/content_hash.h"
#include "libs/features/storage/value_columns.h"

namespace fabrique::features {
namespace {

// What a training-set spec asks for, as a SHA-256 of its deterministic serialization: the
// idempotency key's check that a retry asks for the same thing.
std::string SpecFingerprint(const v1::TrainingSetSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  ContentHasher hasher;
  hasher.AddBytes(bytes);
  return hasher.HexDigest();
}

using google::protobuf::util::TimeUtil;

std::string RangeText(const v1::TimeRange& range) {
  return absl::StrCat("[", range.has_start_time() ? TimeUtil::ToString(range.start_time()) : "-inf",
                      ", ", range.has_end_time() ? TimeUtil::ToString(range.end_time()) : "+inf",
                      ")");
}

// Adds label events to the join, announcing them first to the aggregation columns (if any), so
// that they compute the aggregates of many chunks in one pass over the source's history.
absl::Status AddToJoin(PointInTimeJoin& join, AggregationColumns* aggregation_columns,
                       const v1::LabelEventBatch& events) {
  if (aggregation_columns == nullptr) return join.Add(events);
  aggregation_columns->Expect(events);
  absl::Status added = join.Add(events);
  if (!added.ok()) aggregation_columns->ForgetExpected();
  return added;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrainingSetBuild>> TrainingSetBuild::Start(
    FeatureStore& store, const v1::TrainingSetSpec& spec, const v1::Principal& caller,
    Output on_output, FeatureStore::GroupAccess may_read) {
  if (spec.features_size() == 0) {
    return absl::InvalidArgumentError(
        "TrainingSetSpec.features is empty: name at least one group:feature to join");
  }
  if (spec.label().source_case() == v1::LabelSource::SOURCE_NOT_SET) {
    return absl::InvalidArgumentError(
        "TrainingSetSpec.label is unset: take labels from a group's feature, or send label "
        "events (set label.events, possibly empty, and stream the events after the spec)");
  }
  auto build = std::unique_ptr<TrainingSetBuild>(
      new TrainingSetBuild(store, spec, caller, std::move(on_output)));
  RETURN_IF_ERROR(build->Init(may_read));
  return build;
}

absl::Status TrainingSetBuild::CheckGroups(const CatalogState& catalog,
                                           FeatureStore::GroupAccess may_read) const {
  std::vector<const v1::FeatureRef*> refs;
  for (const v1::FeatureRef& ref : spec_.features()) refs.push_back(&ref);
  if (spec_.label().has_feature()) refs.push_back(&spec_.label().feature());
  std::set<std::string> checked;
  for (const v1::FeatureRef* ref : refs) {
    if (!checked.insert(ref->group()).second) continue;
    auto it = catalog.groups.find(ref->group());
    if (it == catalog.groups.end()) continue;  // The join or the label read names it.
    std::vector<std::string> personal;
    for (const v1::FeatureRef* other : refs) {
      if (other->group() == ref->group()) {
        AddIfPersonal(it->second->personal, other->feature(), &personal);
      }
    }
    RETURN_IF_ERROR(may_read(it->second->latest(), personal));
  }
  return absl::OkStatus();
}

absl::Status TrainingSetBuild::Init(FeatureStore::GroupAccess may_read) {
  start_micros_ = spec_.time_range().has_start_time()
                      ? TimeUtil::TimestampToMicroseconds(spec_.time_range().start_time())
                      : std::numeric_limits<int64_t>::min();
  end_micros_ = spec_.time_range().has_end_time()
                    ? TimeUtil::TimestampToMicroseconds(spec_.time_range().end_time())
                    : std::numeric_limits<int64_t>::max();
  if (start_micros_ > end_micros_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TrainingSetSpec.time_range ", RangeText(spec_.time_range()), " ends before it starts"));
  }
  const std::shared_ptr<const CatalogState> catalog = store_.catalog().Snapshot();
  PointInTimeJoinOptions options;
  options.store = &store_.store();
  options.chunk_rows = spec_.chunk_rows();
  std::set<std::string> groups;
  for (const v1::FeatureRef& ref : spec_.features()) {
    options.features.push_back(ref);
    if (!groups.insert(ref.group()).second) continue;
    auto it = catalog->groups.find(ref.group());
    if (it == catalog->groups.end()) {
      return absl::NotFoundError(absl::StrCat("feature group '", ref.group(), "' does not exist"));
    }
    options.groups.push_back(it->second->latest());
  }
  RETURN_IF_ERROR(CheckGroups(*catalog, may_read));
  // Aggregation groups join as columns of nulls (they have no history), filled in per chunk.
  ASSIGN_OR_RETURN(aggregation_columns_,
                   AggregationColumns::Create(store_, *catalog, spec_.features()));
  options.on_chunk = [this](v1::TrainingSetRows* rows) { return OnChunk(rows); };
  ASSIGN_OR_RETURN(join_, PointInTimeJoin::Create(std::move(options)));
  // A retried build (the same request_id, the same spec) is the same dataset.
  ASSIGN_OR_RETURN(dataset_id_,
                   store_.lineage().DatasetIdFor(spec_.request_id(), SpecFingerprint(spec_)));
  return absl::OkStatus();
}

absl::Status TrainingSetBuild::SendHeader() {
  if (header_sent_) return absl::OkStatus();
  header_sent_ = true;
  v1::BuildTrainingSetResponse response;
  v1::TrainingSetHeader* header = response.mutable_header();
  header->set_dataset_id(dataset_id_);
  for (const v1::VersionedFeatureRef& f : join_->features()) *header->add_features() = f;
  header->set_label_type(join_->label_type());
  return on_output_(&response);
}

absl::Status TrainingSetBuild::OnChunk(v1::TrainingSetRows* rows) {
  RETURN_IF_ERROR(SendHeader());
  // Computed even for a summary: the dataset's content hash covers them.
  if (aggregation_columns_ != nullptr) RETURN_IF_ERROR(aggregation_columns_->Fill(rows));
  if (spec_.summary_only()) return absl::OkStatus();
  v1::BuildTrainingSetResponse response;
  response.mutable_rows()->Swap(rows);
  return on_output_(&response);
}

v1::LabelEventBatch TrainingSetBuild::InRange(const v1::LabelEventBatch& events) const {
  bool all_in = true;
  for (int64_t t : events.event_time_unix_micros()) {
    all_in = all_in && t >= start_micros_ && t < end_micros_;
  }
  if (all_in) return events;
  v1::LabelEventBatch kept;
  const bool has_labels = events.labels().values_case() != v1::ValueColumn::VALUES_NOT_SET;
  std::optional<ColumnBuilder> labels;
  if (has_labels) labels.emplace(ColumnType(events.labels()), kept.mutable_labels());
  for (const v1::EntityKeys& keys : events.entity_keys()) {
    kept.add_entity_keys()->set_entity(keys.entity());
  }
  for (int row = 0; row < events.event_time_unix_micros_size(); ++row) {
    const int64_t t = events.event_time_unix_micros(row);
    if (t < start_micros_ || t >= end_micros_) continue;
    for (int e = 0; e < events.entity_keys_size(); ++e) {
      if (row < events.entity_keys(e).keys_size()) {
        kept.mutable_entity_keys(e)->add_keys(events.entity_keys(e).keys(row));
      }
    }
    kept.add_event_time_unix_micros(t);
    if (labels.has_value()) labels->AppendFrom(events.labels(), row);
  }
  if (labels.has_value()) labels->Finish();
  return kept;
}

absl::Status TrainingSetBuild::AddEvents(const v1::LabelEventBatch& events) {
  if (spec_.label().has_feature()) {
    return absl::FailedPreconditionError(
        "this training set takes its labels from a group's feature; it accepts no label events");
  }
  return AddToJoin(*join_, aggregation_columns_.get(), InRange(events));
}

absl::Status TrainingSetBuild::AddLabelsFromGroup() {
  const v1::FeatureRef& label = spec_.label().feature();
  ASSIGN_OR_RETURN(v1::FeatureGroup group, store_.catalog().GetFeatureGroup(label.group()));
  v1::ReadHistoryRequest request;
  request.set_group(label.group());
  request.add_features(label.feature());
  *request.mutable_time_range() = spec_.time_range();
  return store_.ReadHistory(request, [&](v1::ReadHistoryResponse* chunk) -> absl::Status {
    v1::LabelEventBatch events;
    v1::EntityKeys* keys = events.add_entity_keys();
    keys->set_entity(group.spec().entity());
    keys->mutable_keys()->Swap(chunk->mutable_rows()->mutable_entity_keys());
    events.mutable_event_time_unix_micros()->Swap(
        chunk->mutable_rows()->mutable_event_time_unix_micros());
    if (chunk->rows().columns_size() > 0) {
      events.mutable_labels()->Swap(chunk->mutable_rows()->mutable_columns(0)->mutable_values());
    }
    return AddToJoin(*join_, aggregation_columns_.get(), events);
  });
}

absl::StatusOr<v1::Dataset> TrainingSetBuild::Finish() {
  if (spec_.label().has_feature()) RETURN_IF_ERROR(AddLabelsFromGroup());
  ASSIGN_OR_RETURN(PointInTimeJoinSummary summary, join_->Finish());
  if (summary.rows == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the training set is empty: no label event in the time range ",
                     RangeText(spec_.time_range())));
  }
  RETURN_IF_ERROR(SendHeader());
  v1::Dataset dataset;
  dataset.set_dataset_id(dataset_id_);
  dataset.set_name(spec_.dataset_name());
  for (const v1::VersionedFeatureRef& f : join_->features()) *dataset.add_features() = f;
  if (spec_.label().has_feature()) *dataset.mutable_label_feature() = spec_.label().feature();
  *dataset.mutable_time_range() = spec_.time_range();
  dataset.set_row_count(summary.rows);
  dataset.set_content_sha256(aggregation_columns_ == nullptr
                                 ? summary.content_sha256
                                 : aggregation_columns_->CombinedHash(summary.content_sha256));
  *dataset.mutable_created_by() = caller_;
  dataset.set_trainer_run_id(spec_.trainer_run_id());
  return store_.lineage().RecordDataset(std::move(dataset));
}

}  // namespace fabrique::features
