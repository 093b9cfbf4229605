// IntakeStore::AppendOutcomes: joins each outcome to its prediction, keeps it pending until the
// prediction arrives, or refuses it with its row and reason.

#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/intake/batch_results.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/label_check.h"

namespace fabrique::monitoring {

struct IntakeStore::OutcomeBatch {
  std::string batch_id;
  absl::Time now;
  kv::WriteBatch writes;
  OutcomeIntakeResult result;
  // Predictions joined, and prediction ids given a pending outcome, by this batch so far.
  absl::flat_hash_set<std::string> joined;
  absl::flat_hash_set<std::string> pending_ids;
  // Over the whole entity index, made for the batch's first outcome by entity: one per batch,
  // since an iterator sorts a copy of the index's memtable (intake_family_tuning.h).
  std::unique_ptr<kv::Iterator> entities;

  absl::Status Reject(int64_t row, std::string reason) {
    ++result.rejected;
    AddRowError(result.errors, row, std::move(reason));
    return absl::OkStatus();
  }
};

absl::StatusOr<OutcomeIntakeResult> IntakeStore::AppendOutcomes(
    absl::string_view batch_id, absl::Span<const v1::Outcome> outcomes, LabelTypeOf label_type_of) {
  if (batch_id.empty()) return absl::InvalidArgumentError("a batch of outcomes needs an id");
  absl::MutexLock lock(&append_mutex_);
  ASSIGN_OR_RETURN(std::optional<std::string> earlier, StoredBatch(BatchKind::kOutcomes, batch_id));
  if (earlier) return DecodeOutcomeResult(*earlier);

  OutcomeBatch state;
  state.batch_id = std::string(batch_id);
  state.now = clock_->Now();
  for (size_t row = 0; row < outcomes.size(); ++row) {
    RETURN_IF_ERROR(AppendOutcome(static_cast<int64_t>(row), outcomes[row], label_type_of, state));
  }
  state.writes.Put(batches_, BatchKey(BatchKind::kOutcomes, batch_id),
                   WithTime(TimeMicros(state.now), EncodeResult(state.result)));
  RETURN_IF_ERROR(store_->Write(state.writes, kv::SyncMode::kSync));
  return std::move(state.result);
}

absl::Status IntakeStore::AppendOutcome(int64_t row, const v1::Outcome& outcome,
                                        LabelTypeOf label_type_of, OutcomeBatch& state) {
  std::optional<std::string> prediction_key;
  switch (outcome.join_case()) {
    case v1::Outcome::kPredictionId: {
      if (outcome.prediction_id().empty()) return state.Reject(row, "prediction_id is empty");
      ASSIGN_OR_RETURN(prediction_key, FindById(outcome.prediction_id()));
      if (!prediction_key) {
        // The model, and so the label's type, is known once the prediction arrives.
        if (absl::Status shape = CheckLabel(v1::TASK_UNSPECIFIED, outcome.label()); !shape.ok()) {
          return state.Reject(row, std::string(shape.message()));
        }
        return AppendPendingOutcome(row, outcome, state);
      }
      break;
    }
    case v1::Outcome::kEntityEvent: {
      const v1::EntityEventKey& key = outcome.entity_event();
      if (key.model().empty()) return state.Reject(row, "entity_event.model is empty");
      if (key.entity_key().empty()) return state.Reject(row, "entity_event.entity_key is empty");
      if (!key.has_event_time()) return state.Reject(row, "entity_event.event_time is not set");
      if (state.entities == nullptr) {
        ASSIGN_OR_RETURN(state.entities, store_->NewIterator(entity_index_, kv::KeyRange::All()));
      }
      ASSIGN_OR_RETURN(prediction_key, FindLatestForEntity(key, *state.entities));
      break;
    }
    case v1::Outcome::JOIN_NOT_SET:
      return state.Reject(row, "names no prediction: set prediction_id or entity_event");
  }

  std::optional<PredictionKeyParts> prediction;
  if (prediction_key) {
    ASSIGN_OR_RETURN(prediction, DecodePredictionKey(*prediction_key));
  }
  const std::string model = prediction ? prediction->model : outcome.entity_event().model();
  if (absl::Status fits = CheckLabel(label_type_of(model), outcome.label()); !fits.ok()) {
    return state.Reject(row, absl::StrCat(fits.message(), " (model ", model, ")"));
  }
  if (!prediction) return AppendPendingOutcome(row, outcome, state);

  ASSIGN_OR_RETURN(bool answered, HasOutcome(*prediction_key));
  if (answered || !state.joined.insert(*prediction_key).second) {
    ++state.result.duplicates;
    return absl::OkStatus();
  }
  state.writes.Put(joined_, *prediction_key,
                   WithTime(prediction->time_micros, outcome.SerializeAsString()));
  ++state.result.matched;
  ++state.result.accepted;
  return absl::OkStatus();
}

absl::Status IntakeStore::AppendPendingOutcome(int64_t row, const v1::Outcome& outcome,
                                               OutcomeBatch& state) {
  // The wait counts from the event time when joined by entity (what the prediction must
  // precede), else from when the outcome was observed (or now, when it does not say).
  int64_t since_micros = 0;
  std::string key;
  if (outcome.has_entity_event()) {
    const v1::EntityEventKey& event = outcome.entity_event();
    since_micros = TimestampMicros(event.event_time());
    key = PendingByEntityKey(event.model(), event.entity(), event.entity_key(), since_micros,
                             state.batch_id, static_cast<uint32_t>(row));
  } else {
    since_micros = outcome.has_observe_time() ? TimestampMicros(outcome.observe_time())
                                              : TimeMicros(state.now);
    key = PendingByIdKey(outcome.prediction_id());
  }
  if (!StillPending(since_micros, state.now)) {
    return state.Reject(row, absl::StrCat("no prediction to join, and older than the maximum "
                                          "label delay (",
                                          absl::FormatDuration(options_.max_label_delay), ")"));
  }
  if (!outcome.has_entity_event()) {
    absl::StatusOr<std::string> waiting = store_->Get(pending_, key);
    if (!waiting.ok() && !absl::IsNotFound(waiting.status())) return waiting.status();
    if (waiting.ok() || !state.pending_ids.insert(outcome.prediction_id()).second) {
      ++state.result.duplicates;
      return absl::OkStatus();
    }
  }
  state.writes.Put(pending_, key, WithTime(since_micros, outcome.SerializeAsString()));
  ++state.result.pending;
  ++state.result.accepted;
  return absl::OkStatus();
}

}  // namespace fabrique::monitoring
