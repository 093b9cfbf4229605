#include "services/monitor/monitor_intake.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {

std::function<bool(absl::string_view, int64_t)> MonitorIntake::KnownFrom(
    const ModelDirectory* directory) {
  return [directory](absl::string_view model, int64_t version) {
    return directory->Known(model, version);
  };
}

absl::StatusOr<monitoring::PredictionIntakeResult> MonitorIntake::LogPredictions(
    absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
    kv::SyncMode durability) {
  // The newest version each model is logged with, so a version registered a moment ago is
  // looked up again rather than flagged unknown from a stale cache.
  absl::flat_hash_map<std::string, int64_t> newest;
  for (const v1::PredictionRecord* record : records) {
    const v1::ModelVersionRef& ref = record->model_version();
    if (ref.model().empty()) continue;
    int64_t& version = newest[ref.model()];
    version = std::max(version, ref.version());
  }
  for (const auto& [model, version] : newest) directory_->Refresh(model, version);
  return store_->AppendPredictions(
      batch_id, records, [this](absl::string_view model) { return directory_->TaskOf(model); },
      durability);
}

absl::StatusOr<std::string> MonitorIntake::ModelOf(const v1::Outcome& outcome) const {
  if (outcome.has_entity_event()) return outcome.entity_event().model();
  if (outcome.prediction_id().empty()) return std::string();
  ASSIGN_OR_RETURN(std::optional<std::string> model,
                   store_->ModelOfPrediction(outcome.prediction_id()));
  return model.value_or(std::string());
}

std::string MonitorIntake::RefusalFor(const std::string& model, const MayLogOutcomesOf& may_log) {
  directory_->Refresh(model);
  const ModelDirectory::Facts facts = directory_->Get(model);
  switch (facts.state) {
    case ModelDirectory::State::kUnreachable:
      // The registry is away: the squad cannot be checked, and records must keep coming.
      return "";
    case ModelDirectory::State::kMissing:
      return may_log("*") ? ""
                          : absl::StrCat("model ", model,
                                         " is not in the registry, so its squad is unknown");
    case ModelDirectory::State::kFound:
      return may_log(facts.owner_squad)
                 ? ""
                 : absl::StrCat("model ", model, " belongs to squad ", facts.owner_squad);
  }
  return "";
}

absl::StatusOr<monitoring::OutcomeIntakeResult> MonitorIntake::LogOutcomes(
    absl::string_view batch_id, absl::Span<const v1::Outcome> outcomes,
    const MayLogOutcomesOf& may_log) {
  // Outcomes the caller may log go to the store; `rows` maps their place there to the batch's.
  std::vector<v1::Outcome> kept;
  std::vector<int64_t> rows;
  std::vector<monitoring::RowError> refused;
  absl::flat_hash_map<std::string, std::string> refusal_of_model;
  for (size_t row = 0; row < outcomes.size(); ++row) {
    ASSIGN_OR_RETURN(std::string model, ModelOf(outcomes[row]));
    if (!model.empty()) {
      auto [it, inserted] = refusal_of_model.try_emplace(model);
      if (inserted) it->second = RefusalFor(model, may_log);
      if (!it->second.empty()) {
        refused.push_back({static_cast<int64_t>(row), it->second});
        continue;
      }
    }
    kept.push_back(outcomes[row]);
    rows.push_back(static_cast<int64_t>(row));
  }
  ASSIGN_OR_RETURN(monitoring::OutcomeIntakeResult result,
                   store_->AppendOutcomes(batch_id, kept, [this](absl::string_view model) {
                     return directory_->TaskOf(model);
                   }));
  // The store numbered the rows it was given; the caller knows the batch's.
  std::vector<monitoring::RowError> errors = std::move(refused);
  for (monitoring::RowError& error : result.errors) {
    // A replayed batch id answers its first call's rows, which a changed batch may not have.
    if (error.row >= 0 && static_cast<size_t>(error.row) < rows.size()) {
      error.row = rows[static_cast<size_t>(error.row)];
    }
    errors.push_back(std::move(error));
  }
  std::sort(
      errors.begin(), errors.end(),
      [](const monitoring::RowError& a, const monitoring::RowError& b) { return a.row < b.row; });
  result.rejected += static_cast<int64_t>(outcomes.size() - kept.size());
  result.errors.clear();
  for (monitoring::RowError& error : errors) {
    monitoring::AddRowError(result.errors, error.row, std::move(error.reason));
  }
  return result;
}

}  // namespace fabrique::services
