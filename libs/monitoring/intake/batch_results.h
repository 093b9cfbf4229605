#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_BATCH_RESULTS_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_BATCH_RESULTS_H_

// The stored form of a batch's result, kept under its batch id so that a replay answers exactly
// what the first call answered (a client that lost the reply sees the same counts).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/monitoring/intake/intake_results.h"

namespace fabrique::monitoring {

std::string EncodeResult(const PredictionIntakeResult& result);
std::string EncodeResult(const OutcomeIntakeResult& result);
// DATA_LOSS when `bytes` is not what EncodeResult wrote.
absl::StatusOr<PredictionIntakeResult> DecodePredictionResult(absl::string_view bytes);
absl::StatusOr<OutcomeIntakeResult> DecodeOutcomeResult(absl::string_view bytes);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_BATCH_RESULTS_H_
