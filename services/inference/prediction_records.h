#ifndef FABRIQUE_SERVICES_INFERENCE_PREDICTION_RECORDS_H_
#define FABRIQUE_SERVICES_INFERENCE_PREDICTION_RECORDS_H_

// The prediction log's records of one scored request: one record per row, with the row's inputs
// and outputs as the monitor keeps them (fabrique.v1.PredictionRecord).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::services {

// Who answered a request, and how it was reached: the fields every row's record shares.
struct RecordContext {
  std::string model;
  int64_t version = 0;
  std::string alias;
  bool canary = false;
  bool shadow = false;
  std::string request_id;
  absl::Time time;  // When it was scored.
  absl::Duration latency;
};

// One record per row of `inputs` and `outputs`, each with its prediction id from `ids` (one per
// row) and, for shadow records, the primary's from `primary_ids` (empty otherwise). Inputs:
// one Value per signature input (a number or text for a one-element row, a float vector for a
// wider FP32 one, unset otherwise); outputs: every numeric output's elements as floats.
std::vector<v1::PredictionRecord> RowRecords(const RecordContext& context,
                                             const serving::TensorBatch& inputs,
                                             const serving::TensorBatch& outputs,
                                             const std::vector<std::string>& ids,
                                             const std::vector<std::string>& primary_ids);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_PREDICTION_RECORDS_H_
