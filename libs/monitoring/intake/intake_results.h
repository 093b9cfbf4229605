#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RESULTS_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RESULTS_H_

// What the intake answers for one batch. The counts are exact; `errors` names at most
// kMaxRowErrors refused rows (the first ones), so a batch of a million bad rows answers in
// bounded size. A replayed batch id answers the same result, read back from the store.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fabrique::monitoring {

inline constexpr size_t kMaxRowErrors = 100;

// Why one row of a batch was refused; `row` is its index in the batch, from 0.
struct RowError {
  int64_t row = 0;
  std::string reason;

  friend bool operator==(const RowError& a, const RowError& b) {
    return a.row == b.row && a.reason == b.reason;
  }
};

struct PredictionIntakeResult {
  // Records stored, unknown versions included.
  int64_t accepted = 0;
  // Records whose prediction id was already stored (or earlier in the batch): not stored again.
  int64_t duplicates = 0;
  // Records refused (no prediction id, model, version or time).
  int64_t rejected = 0;
  // Accepted records of a model version the registry does not know: stored and flagged, so
  // the monitor can report them instead of losing them.
  int64_t unknown_version = 0;
  // Outcomes that were waiting for these predictions and are now joined to them.
  int64_t outcomes_joined = 0;
  // Outcomes that waited by prediction id with a label that does not fit the model's task, which
  // only the prediction revealed: dropped, and counted here rather than silently.
  int64_t outcomes_refused = 0;
  std::vector<RowError> errors;
};

struct OutcomeIntakeResult {
  // Outcomes stored: matched + pending.
  int64_t accepted = 0;
  // Joined to a prediction now.
  int64_t matched = 0;
  // Kept until their prediction arrives, for at most the maximum label delay.
  int64_t pending = 0;
  // Outcomes for a prediction that already has one (the first is kept).
  int64_t duplicates = 0;
  // Refused: no join key, a label of the wrong type, or too late to ever be joined.
  int64_t rejected = 0;
  std::vector<RowError> errors;
};

// Counts nothing: appends `reason` for `row` while fewer than kMaxRowErrors are listed.
inline void AddRowError(std::vector<RowError>& errors, int64_t row, std::string reason) {
  if (errors.size() < kMaxRowErrors) errors.push_back(RowError{row, std::move(reason)});
}

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RESULTS_H_
