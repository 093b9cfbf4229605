#ifndef FABRIQUE_SERVICES_MONITOR_MONITOR_INTAKE_H_
#define FABRIQUE_SERVICES_MONITOR_MONITOR_INTAKE_H_

// The monitor's intake as its adapter calls it: the intake store (libs/monitoring/intake) with
// what only the registry knows (model_directory.h) and what only the caller's permissions decide.
// No gRPC here: the adapter authenticates, reads the stream and maps the status.
//
//   MonitorIntake intake(store.get(), &directory);
//   ASSIGN_OR_RETURN(PredictionIntakeResult r, intake.LogPredictions(batch_id, records));
//   ASSIGN_OR_RETURN(OutcomeIntakeResult r,
//                    intake.LogOutcomes(batch_id, outcomes, [&](auto squad) { ... }));
//
// An outcome concerns the model of its prediction: it is refused, with its row, when that
// model's squad is one where the caller may not log outcomes. An outcome by prediction id whose
// prediction has not arrived names no model yet; it waits like any other (prediction ids are
// made by inference servers and not guessable), and is joined when the prediction comes.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/intake/intake_results.h"
#include "libs/monitoring/intake/intake_store.h"
#include "services/monitor/model_directory.h"

namespace fabrique::services {

class MonitorIntake {
 public:
  // Whether the caller may log outcomes of models owned by `squad`.
  using MayLogOutcomesOf = std::function<bool(absl::string_view squad)>;

  // Neither is owned; both must outlive this. `store` must have been opened with
  // `directory->Known` as its IntakeOptions::known (see KnownFrom).
  MonitorIntake(monitoring::IntakeStore* store, ModelDirectory* directory)
      : store_(store), directory_(directory) {}

  // IntakeOptions::known for a store used through this.
  static std::function<bool(absl::string_view, int64_t)> KnownFrom(const ModelDirectory* directory);

  // Stores one batch of prediction records (idempotent by batch id): the registry is asked
  // about their models first, so that the store's checks read only the cache. Errors as
  // IntakeStore::AppendPredictions.
  // With `durability` kNoSync the batch is not fsynced yet: call SyncLog() before answering.
  absl::StatusOr<monitoring::PredictionIntakeResult> LogPredictions(
      absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
      kv::SyncMode durability = kv::SyncMode::kSync);

  // Fsyncs every batch stored so far (see IntakeStore::SyncLog).
  absl::Status SyncLog() { return store_->SyncLog(); }

  // Stores one batch of outcomes (idempotent by batch id), refusing with its row each one whose
  // model belongs to a squad the caller may not log outcomes of, or is not in the registry
  // (unless the caller may log outcomes of every squad). Row numbers in the result are the
  // batch's. Errors as IntakeStore::AppendOutcomes.
  absl::StatusOr<monitoring::OutcomeIntakeResult> LogOutcomes(
      absl::string_view batch_id, absl::Span<const v1::Outcome> outcomes,
      const MayLogOutcomesOf& may_log);

  // Outcomes waiting for their prediction now.
  absl::StatusOr<int64_t> PendingOutcomes() const { return store_->PendingOutcomeCount(); }

 private:
  // The model an outcome concerns: its entity key's, or that of its stored prediction; "" when
  // neither is known yet.
  absl::StatusOr<std::string> ModelOf(const v1::Outcome& outcome) const;
  // "" when the caller may log outcomes of `model`, else why not.
  std::string RefusalFor(const std::string& model, const MayLogOutcomesOf& may_log);

  monitoring::IntakeStore* const store_;
  ModelDirectory* const directory_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_INTAKE_H_
