// IntakeStore::AppendPredictions: stores a batch of prediction records with their indexes, and
// joins the outcomes that arrived before them.

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/iterator.h"
#include "libs/monitoring/intake/batch_results.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/label_check.h"
#include "libs/monitoring/intake/prepared_batch.h"

namespace fabrique::monitoring {

namespace {

// Why a record cannot be stored, or "" when it can.
std::string RecordProblem(const v1::PredictionRecord& record) {
  if (record.prediction_id().empty()) return "prediction_id is empty";
  if (record.model_version().model().empty()) return "model_version.model is empty";
  if (record.model_version().version() <= 0) return "model_version.version must be 1 or more";
  if (!record.has_time()) return "time is not set";
  return "";
}

// The entity keys a record answers outcomes under: each (name, key) it carries and, when it
// carries exactly one, also ("", key), because an outcome names no entity when its model uses a
// single one (EntityEventKey.entity).
std::vector<std::pair<std::string, std::string>> AnswerableEntities(
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
    LabelTypeOf label_type_of, kv::SyncMode durability) {
  std::vector<const v1::PredictionRecord*> pointers;
  pointers.reserve(records.size());
  for (const v1::PredictionRecord& record : records) pointers.push_back(&record);
  return AppendPredictions(batch_id, pointers, label_type_of, durability);
}

absl::StatusOr<PredictionIntakeResult> IntakeStore::AppendPredictions(
    absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
    LabelTypeOf label_type_of, kv::SyncMode durability) {
  if (batch_id.empty()) return absl::InvalidArgumentError("a batch of predictions needs an id");
  std::unique_ptr<PreparedBatch> prepared = TakePreparedBatch();
  Prepare(records, *prepared);
  absl::StatusOr<PredictionIntakeResult> result;
  {
    absl::ReaderMutexLock lock(&append_mutex_);
    result = AppendPredictionsShared(batch_id, records, *prepared, label_type_of);
  }
  KeepPreparedBatch(std::move(prepared));
  // Also for a replayed batch: its first append may not be fsynced yet.
  if (result.ok() && durability != kv::SyncMode::kNoSync) RETURN_IF_ERROR(SyncLog());
  return result;
}

absl::Status IntakeStore::SyncLog() { return store_->SyncWal(); }

absl::StatusOr<bool> IntakeStore::AnyPending(const kv::KeyRange& range) const {
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it, store_->NewIterator(pending_, range));
  it->SeekToFirst();
  if (it->Valid()) return true;
  RETURN_IF_ERROR(it->status());
  return false;
}

std::unique_ptr<IntakeStore::PreparedBatch> IntakeStore::TakePreparedBatch() {
  {
    absl::MutexLock lock(&spares_mutex_);
    if (!spare_batches_.empty()) {
      std::unique_ptr<PreparedBatch> spare = std::move(spare_batches_.back());
      spare_batches_.pop_back();
      return spare;
    }
  }
  return std::make_unique<PreparedBatch>();
}

void IntakeStore::KeepPreparedBatch(std::unique_ptr<PreparedBatch> prepared) {
  // As many as append at once are kept; one that an outsized batch grew is let go.
  constexpr size_t kSpareBatches = 8;
  constexpr size_t kSpareBytes = size_t{16} << 20;
  if (prepared->bytes() > kSpareBytes) return;
  prepared->Clear();
  absl::MutexLock lock(&spares_mutex_);
  if (spare_batches_.size() < kSpareBatches) spare_batches_.push_back(std::move(prepared));
}

void IntakeStore::Prepare(absl::Span<const v1::PredictionRecord* const> records,
                          PreparedBatch& prepared) const {
  prepared.problems.resize(records.size());
  prepared.id_keys.reserve(records.size());
  prepared.arrived.resize(records.size());
  prepared.unknown.resize(records.size());
  bool reserved = false;
  for (size_t row = 0; row < records.size(); ++row) {
    const v1::PredictionRecord& record = *records[row];
    prepared.id_keys.push_back(PredictionIdKey(record.prediction_id()));
    prepared.problems[row] = RecordProblem(record);
    if (!prepared.problems[row].empty()) continue;
    const v1::ModelVersionRef& ref = record.model_version();
    const int64_t time_micros = TimestampMicros(record.time());
    const bool unknown = options_.known && !options_.known(ref.model(), ref.version());
    prepared.unknown[row] = unknown;
    prepared.arrived[row].emplace(ArrivedPrediction{row, &record, {}, time_micros});
    prepared.records.Add(
        row,
        [&](std::string* out) {
          AppendPredictionKey(out, ref.model(), ref.version(), time_micros, record.prediction_id());
        },
        [&](std::string* out) { AppendPrediction(out, time_micros, record, unknown); });
    // The indexes hold what their keys lack of the prediction's key (intake_values.h).
    prepared.ids.Add(
        row, [&](std::string* out) { out->append(prepared.id_keys.back()); },
        [&](std::string* out) {
          AppendPredictionIdValue(out, time_micros, ref.model(), ref.version());
        });
    // Indexed under the entities it names only: one it names alone is marked, which lets an
    // outcome that names no entity find it (intake_values.h) without a second entry under "".
    const bool sole_entity =
        record.entity_keys_size() == 1 && !record.entity_keys().begin()->first.empty();
    for (const auto& [entity, entity_key] : record.entity_keys()) {
      prepared.entities.Add(
          row,
          [&](std::string* out) {
            AppendEntityIndexKey(out, ref.model(), entity, entity_key, time_micros,
                                 record.prediction_id());
          },
          [&](std::string* out) {
            AppendEntityIndexValue(out, time_micros, ref.version(), sole_entity);
          });
    }
    if (!reserved) {
      // A batch's records are alike: the first sizes the buffers for the rest.
      prepared.records.ReserveLikeFirst(records.size());
      prepared.ids.ReserveLikeFirst(records.size());
      prepared.entities.ReserveLikeFirst(records.size());
      reserved = true;
    }
  }
  prepared.records.SortByKey();
  prepared.ids.SortByKey();
  prepared.entities.SortByKey();
  // The buffer of the records' keys is complete: their views stay valid.
  for (size_t i = 0; i < prepared.records.size(); ++i) {
    prepared.arrived[prepared.records.row(i)]->key = prepared.records.key(i);
  }
}

void IntakeStore::ClaimBatch(absl::string_view batch_id) {
  // A replay of a batch in flight waits for it, then finds its stored result.
  const auto free = [this, batch_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(claims_mutex_) {
    return !batches_in_flight_.contains(batch_id);
  };
  absl::MutexLock lock(&claims_mutex_, absl::Condition(&free));
  batches_in_flight_.emplace(batch_id);
}

void IntakeStore::ReleaseClaims(absl::string_view batch_id,
                                absl::Span<const absl::string_view> prediction_ids) {
  absl::MutexLock lock(&claims_mutex_);
  for (absl::string_view id : prediction_ids) ids_in_flight_.erase(id);
  batches_in_flight_.erase(batch_id);
}

absl::StatusOr<PredictionIntakeResult> IntakeStore::AppendPredictionsShared(
    absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
    PreparedBatch& prepared, LabelTypeOf label_type_of) {
  // The batch id and the ids of its rows are claimed in memory, then read from the store, then
  // written, then released: a concurrent append cannot accept an id (or a batch) between this
  // one's read and its write, and once released the write is readable.
  ClaimBatch(batch_id);
  std::vector<absl::string_view> claimed_ids;
  claimed_ids.reserve(records.size());
  const absl::Cleanup release = [&] { ReleaseClaims(batch_id, claimed_ids); };
  ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                   StoredBatch(BatchKind::kPredictions, batch_id));
  if (earlier) return DecodePredictionResult(*earlier);

  const absl::Time now = clock_->Now();
  PredictionIntakeResult result;
  // A row whose id another append holds (or an earlier row of this batch) is a duplicate: that
  // append stores it. Should its write fail, its caller's retry stores the id.
  std::vector<bool> claimed(records.size(), false);
  {
    absl::MutexLock lock(&claims_mutex_);
    for (size_t row = 0; row < records.size(); ++row) {
      if (!prepared.problems[row].empty()) continue;
      const absl::string_view id = records[row]->prediction_id();
      if (ids_in_flight_.insert(id).second) {
        claimed[row] = true;
        claimed_ids.push_back(id);
      }
    }
  }
  // Which claimed ids are stored already: one MultiGet for the batch rather than a Get per record.
  std::vector<std::string> id_keys;
  id_keys.reserve(claimed_ids.size());
  for (size_t row = 0; row < records.size(); ++row) {
    if (claimed[row]) id_keys.push_back(std::move(prepared.id_keys[row]));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored_ids,
                   store_->MultiGet(prediction_ids_, id_keys));
  std::vector<ArrivedPrediction> arrived;
  arrived.reserve(records.size());
  std::vector<bool> accepted_rows(records.size(), false);
  size_t claim = 0;
  for (size_t row = 0; row < records.size(); ++row) {
    if (!prepared.problems[row].empty()) {
      ++result.rejected;
      AddRowError(result.errors, static_cast<int64_t>(row), std::move(prepared.problems[row]));
      continue;
    }
    if (!claimed[row] || stored_ids[claim++]) {
      ++result.duplicates;
      continue;
    }
    accepted_rows[row] = true;
    ++result.accepted;
    if (prepared.unknown[row]) ++result.unknown_version;
    arrived.push_back(*std::move(prepared.arrived[row]));
  }
  kv::WriteBatch& batch = prepared.batch;
  prepared.records.Put(predictions_, accepted_rows, batch);
  prepared.ids.Put(prediction_ids_, accepted_rows, batch);
  prepared.entities.Put(entity_index_, accepted_rows, batch);
  // Outcome appends exclude this one, so the pending family only shrinks while it runs. Two
  // appends could answer the same outcome by entity: those that find outcomes waiting take
  // turns from their reads to their write. Most find none, and write side by side.
  std::optional<absl::MutexLock> joining;
  if (!arrived.empty()) {
    ASSIGN_OR_RETURN(bool waiting, AnyPending(kv::KeyRange::All()));
    if (waiting) {
      joining.emplace(&join_mutex_);
      RETURN_IF_ERROR(JoinPending(arrived, label_type_of, now, batch, result));
    }
  }
  batch.Put(batches_, BatchKey(BatchKind::kPredictions, batch_id),
            WithTime(TimeMicros(now), EncodeResult(result)));
  std::vector<AcceptedPrediction> accepted;
  uint64_t token = 0;
  if (observer_ != nullptr) {
    accepted.reserve(arrived.size());
    for (const ArrivedPrediction& prediction : arrived) {
      accepted.push_back({records[prediction.row], prediction.key});
    }
    token = observer_->Staged(accepted, batch);
  }
  if (absl::Status written = store_->Write(batch, kv::SyncMode::kNoSync); !written.ok()) {
    if (observer_ != nullptr) observer_->Abandoned(token);
    return written;
  }
  if (observer_ != nullptr) observer_->Committed(token, accepted);
  return result;
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
  // Outcomes come after their predictions far more often than before: most batches find no
  // outcome waiting, and one seek says so.
  if (arrived.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(bool any, AnyPending(PendingByIdAll()));
  if (!any) return absl::OkStatus();
  std::vector<std::string> pending_keys;
  pending_keys.reserve(arrived.size());
  for (const ArrivedPrediction& prediction : arrived) {
    pending_keys.push_back(PendingByIdKey(prediction.prediction_id()));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   store_->MultiGet(pending_, pending_keys));
  for (size_t i = 0; i < arrived.size(); ++i) {
    const ArrivedPrediction& prediction = arrived[i];
    const std::string& pending_key = pending_keys[i];
    if (!values[i]) continue;
    ASSIGN_OR_RETURN(TimedValue timed, SplitTime(*values[i]));
    batch.Delete(pending_, pending_key);
    if (!StillPending(timed.time_micros, now)) continue;  // Expired: gone now, not at compaction.
    ASSIGN_OR_RETURN(v1::Outcome outcome,
                     core::ParseStored<v1::Outcome>(timed.body, "pending outcome"));
    if (!CheckLabel(label_type_of(prediction.model()), outcome.label()).ok()) {
      ++refused;
      continue;
    }
    batch.Put(joined_, prediction.key, WithTime(prediction.time_micros, timed.body));
    answered.insert(std::string(prediction.key));
  }
  return absl::OkStatus();
}

absl::Status IntakeStore::JoinPendingByEntity(absl::Span<const ArrivedPrediction> arrived,
                                              absl::Time now, kv::WriteBatch& batch,
                                              absl::flat_hash_set<std::string>& answered) const {
  // An outcome by entity goes to the latest prediction at or before its event time. Predictions
  // stored earlier cannot be it: such an outcome would have been joined when it came.
  if (arrived.empty()) return absl::OkStatus();
  // One iterator for the batch: none at all when no outcome by entity waits.
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   store_->NewIterator(pending_, PendingByEntityAll()));
  it->SeekToFirst();
  if (!it->Valid()) return it->status();
  using EntityOf = std::tuple<std::string, std::string, std::string>;
  absl::flat_hash_map<EntityOf, std::vector<const ArrivedPrediction*>> by_entity;
  for (const ArrivedPrediction& prediction : arrived) {
    for (const auto& [entity, entity_key] : AnswerableEntities(*prediction.record)) {
      by_entity[EntityOf{std::string(prediction.model()), entity, entity_key}].push_back(
          &prediction);
    }
  }
  for (auto& [entity_of, predictions] : by_entity) {
    const auto& [model, entity, entity_key] = entity_of;
    std::stable_sort(predictions.begin(), predictions.end(),
                     [](const auto* a, const auto* b) { return a->time_micros < b->time_micros; });
    std::vector<std::pair<std::string, std::string>> waiting;
    const kv::KeyRange range =
        PendingByEntityRange(model, entity, entity_key, predictions.front()->time_micros);
    for (it->Seek(range.begin); it->Valid() && range.Contains(it->key()); it->Next()) {
      waiting.emplace_back(it->key(), it->value());
    }
    RETURN_IF_ERROR(it->status());
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
      if (!answered.insert(std::string(latest->key)).second) continue;
      batch.Delete(pending_, pending_key);
      batch.Put(joined_, latest->key, WithTime(latest->time_micros, timed.body));
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::monitoring
