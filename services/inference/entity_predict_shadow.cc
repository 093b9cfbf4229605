#include "services/inference/entity_predict_shadow.h"

#include <string>
#include <utility>
#include <vector>

#include "libs/serving/prediction_ids.h"
#include "services/inference/prediction_records.h"

namespace fabrique::services {

void ScoreShadow(ShadowScoring scoring, serving::PredictionLogger* logger,
                 InferenceMetrics* metrics, core::Clock* clock) {
  // The records need the rows and the primary's ids after the request is answered: kept here.
  auto held = std::make_shared<ShadowScoring>(std::move(scoring));
  held->shadow->Submit(
      held->inputs, held->deadline,
      [held, logger, metrics, clock](absl::StatusOr<serving::TensorBatch> outputs,
                                     const serving::BatchStats&) {
        if (!outputs.ok()) {
          if (metrics != nullptr) metrics->OnShadowFailed(held->shadow->model());
          return;
        }
        if (!held->logging || logger == nullptr) return;
        const absl::Time now = clock->Now();
        RecordContext context{
            held->shadow->model(), held->shadow->version(), "", false, true, held->request_id, now,
            now - held->start};
        const std::vector<std::string> ids =
            serving::NewPredictionIds(static_cast<int64_t>(held->primary_ids.size()));
        for (v1::PredictionRecord& record :
             RowRecords(context, held->inputs, *outputs, ids, held->primary_ids)) {
          logger->Log(std::move(record));
        }
      });
}

}  // namespace fabrique::services
