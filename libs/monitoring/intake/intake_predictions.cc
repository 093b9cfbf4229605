// IntakeStore::AppendPredictions: stores a batch of prediction records with their indexes, and
// joins the outcomes that arrived before them.

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/monitoring/intake/batch_results.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/label_check.h"

namespace fabrique::monitoring {

struct IntakeStore::ArrivedPrediction {
  size_t row = 0;   // Its index in the batch.
  std::string key;  // Its key in the predictions family.
  std::string prediction_id;
  std::string model;
  int64_t time_micros = 0;
  // (entity name, entity key) pairs it is indexed under.
  std::vector<std::pair<std::string, std::string>> entities;
};

namespace {

// Why a record cannot be stored, or "" when it can.
std::string RecordProblem(const v1::PredictionRecord& record) {
  if (record.prediction_id().empty()) return "prediction_id is empty";
  if (record.model_version().model().empty()) return "model_version.model is empty";
  if (record.model_version().version() <= 0) return "model_version.version must be 1 or more";
  if (!record.has_time()) return "time is not set";
  return "";
}

// The entity keys a record is indexed under: each (name, key) it carries and, when it carries
// exactly one, also ("", key), because an outcome names no entity when its model uses a single
// one (EntityEventKey.entity).
std::vector<std::pair<std::string, std::string>> IndexedEntities(
    const v1::PredictionRecord& record) {
  std::vector<std::pair<std::string, std::string>> entities(record.entity_keys().begin(),
                                                            record.entity_keys().end());
  if (entities.size() == 1 && !entities[0].first.empty()) {
    entities.emplace_back("", entities[0].second);
  }
  return entities;
}

}  // namespace

absl::StatusOr<PredictionIntakeResult> IntakeStore::AppendPredictions(
    absl::string_view batch_id, absl::Span<const v1::PredictionRecord> records,
    LabelTypeOf label_type_of) {
  if (batch_id.empty()) return absl::InvalidArgumentError("a batch of predictions needs an id");
  absl::MutexLock lock(&write_mutex_);
  ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                   StoredBatch(BatchKind::kPredictions, batch_id));
  if (earlier) return DecodePredictionResult(*earlier);

  const absl::Time now = clock_->Now();
  PredictionIntakeResult result;
  kv::WriteBatch batch;
  std::vector<ArrivedPrediction> arrived;
  absl::flat_hash_set<std::string> ids_in_batch;
  for (size_t row = 0; row < records.size(); ++row) {
    const v1::PredictionRecord& record = records[row];
    if (std::string problem = RecordProblem(record); !problem.empty()) {
      ++result.rejected;
      AddRowError(result.errors, static_cast<int64_t>(row), std::move(problem));
      continue;
    }
    const std::string& id = record.prediction_id();
    ASSIGN_OR_RETURN(std::optional<std::string> stored, FindById(id));
    if (stored || !ids_in_batch.insert(id).second) {
      ++result.duplicates;
      continue;
    }
    const v1::ModelVersionRef& ref = record.model_version();
    const bool unknown = options_.known && !options_.known(ref.model(), ref.version());
    ArrivedPrediction prediction{
        row,
        PredictionKey(ref.model(), ref.version(), TimestampMicros(record.time()), id),
        id,
        ref.model(),
        TimestampMicros(record.time()),
        IndexedEntities(record)};
    PutPrediction(record, prediction, unknown, batch);
    ++result.accepted;
    if (unknown) ++result.unknown_version;
    arrived.push_back(std::move(prediction));
  }
  RETURN_IF_ERROR(JoinPending(arrived, label_type_of, now, batch, result));
  batch.Put(batches_, BatchKey(BatchKind::kPredictions, batch_id),
            WithTime(TimeMicros(now), EncodeResult(result)));
  std::vector<AcceptedPrediction> accepted;
  if (observer_ != nullptr) {
    accepted.reserve(arrived.size());
    for (const ArrivedPrediction& prediction : arrived) {
      accepted.push_back({&records[prediction.row], prediction.key});
    }
    observer_->Staged(accepted, batch);
  }
  RETURN_IF_ERROR(store_->Write(batch, kv::SyncMode::kSync));
  if (observer_ != nullptr) observer_->Committed(accepted);
  return result;
}

void IntakeStore::PutPrediction(const v1::PredictionRecord& record,
                                const ArrivedPrediction& prediction, bool unknown_version,
                                kv::WriteBatch& batch) const {
  batch.Put(predictions_, prediction.key,
            EncodePrediction(prediction.time_micros, record, unknown_version));
  const std::string index_value = WithTime(prediction.time_micros, prediction.key);
  batch.Put(prediction_ids_, PredictionIdKey(prediction.prediction_id), index_value);
  for (const auto& [entity, entity_key] : prediction.entities) {
    batch.Put(entity_index_,
              EntityIndexKey(prediction.model, entity, entity_key, prediction.time_micros,
                             prediction.prediction_id),
              index_value);
  }
}

absl::Status IntakeStore::JoinPending(absl::Span<const ArrivedPrediction> arrived,
                                      LabelTypeOf label_type_of, absl::Time now,
                                      kv::WriteBatch& batch, PredictionIntakeResult& result) {
  absl::flat_hash_set<std::string> answered;
  RETURN_IF_ERROR(
      JoinPendingById(arrived, label_type_of, now, batch, answered, result.outcomes_refused));
  RETURN_IF_ERROR(JoinPendingByEntity(arrived, now, batch, answered));
  result.outcomes_joined = static_cast<int64_t>(answered.size());
  return absl::OkStatus();
}

absl::Status IntakeStore::JoinPendingById(absl::Span<const ArrivedPrediction> arrived,
                                          LabelTypeOf label_type_of, absl::Time now,
                                          kv::WriteBatch& batch,
                                          absl::flat_hash_set<std::string>& answered,
                                          int64_t& refused) const {
  for (const ArrivedPrediction& prediction : arrived) {
    const std::string pending_key = PendingByIdKey(prediction.prediction_id);
    absl::StatusOr<std::string> value = store_->Get(pending_, pending_key);
    if (absl::IsNotFound(value.status())) continue;
    RETURN_IF_ERROR(value.status());
    ASSIGN_OR_RETURN(TimedValue timed, SplitTime(*value));
    batch.Delete(pending_, pending_key);
    if (!StillPending(timed.time_micros, now)) continue;  // Expired: gone now, not at compaction.
    ASSIGN_OR_RETURN(v1::Outcome outcome,
                     core::ParseStored<v1::Outcome>(timed.body, "pending outcome"));
    if (!CheckLabel(label_type_of(prediction.model), outcome.label()).ok()) {
      ++refused;
      continue;
    }
    batch.Put(joined_, prediction.key, WithTime(prediction.time_micros, timed.body));
    answered.insert(prediction.key);
  }
  return absl::OkStatus();
}

absl::Status IntakeStore::JoinPendingByEntity(absl::Span<const ArrivedPrediction> arrived,
                                              absl::Time now, kv::WriteBatch& batch,
                                              absl::flat_hash_set<std::string>& answered) const {
  // An outcome by entity goes to the latest prediction at or before its event time. Predictions
  // stored earlier cannot be it: such an outcome would have been joined when it came.
  using EntityOf = std::tuple<std::string, std::string, std::string>;
  absl::flat_hash_map<EntityOf, std::vector<const ArrivedPrediction*>> by_entity;
  for (const ArrivedPrediction& prediction : arrived) {
    for (const auto& [entity, entity_key] : prediction.entities) {
      by_entity[EntityOf{prediction.model, entity, entity_key}].push_back(&prediction);
    }
  }
  for (auto& [entity_of, predictions] : by_entity) {
    const auto& [model, entity, entity_key] = entity_of;
    std::stable_sort(predictions.begin(), predictions.end(),
                     [](const auto* a, const auto* b) { return a->time_micros < b->time_micros; });
    std::vector<std::pair<std::string, std::string>> waiting;
    RETURN_IF_ERROR(store_->Scan(
        pending_, PendingByEntityRange(model, entity, entity_key, predictions.front()->time_micros),
        [&](absl::string_view key, absl::string_view value) {
          waiting.emplace_back(key, value);
          return true;
        }));
    for (const auto& [pending_key, value] : waiting) {
      ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));  // Its time is the event time.
      if (!StillPending(timed.time_micros, now)) {
        batch.Delete(pending_, pending_key);
        continue;
      }
      auto after = std::upper_bound(
          predictions.begin(), predictions.end(), timed.time_micros,
          [](int64_t time, const ArrivedPrediction* p) { return time < p->time_micros; });
      const ArrivedPrediction* latest = *std::prev(after);
      // A prediction already answered keeps its first outcome; this one keeps waiting, and
      // expires unless a prediction that arrives out of order answers it.
      if (!answered.insert(latest->key).second) continue;
      batch.Delete(pending_, pending_key);
      batch.Put(joined_, latest->key, WithTime(latest->time_micros, timed.body));
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::monitoring
