#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_SHADOW_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_SHADOW_H_

// Shadow scoring, for ModelInfer and Predict alike: the candidate scores a copy of rows the
// primary answers, off the request path;
// its answers are only logged, each record naming the primary's prediction of the same row, so
// the monitor can compare the two on live traffic. A failure is counted, never seen by callers.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/serving/model_set.h"
#include "libs/serving/prediction_logger.h"
#include "services/inference/inference_metrics.h"

namespace fabrique::services {

struct ShadowScoring {
  std::shared_ptr<serving::ServedVersion> shadow;  // The version that scores. Required.
  serving::TensorBatch inputs;                     // The rows, as the primary got them.
  std::vector<std::string> primary_ids;            // The primary's prediction id of each row.
  std::string request_id;
  absl::Time start;      // When the request arrived (the records' latency counts from it).
  absl::Time deadline;   // The request's.
  bool logging = false;  // Log the answers (false: score only, e.g. skip_logging).
};

// Queues `scoring` on its shadow version and returns at once. `logger` (when logging), `metrics`
// (may be null) and `clock` must outlive the scoring.
void ScoreShadow(ShadowScoring scoring, serving::PredictionLogger* logger,
                 InferenceMetrics* metrics, core::Clock* clock);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_SHADOW_H_
