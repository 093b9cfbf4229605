#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_CALL_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_CALL_H_

// One entity Predict in flight, from its check to its answer: the rows of each signature (a
// feed, looked up once) and the rows each version answers (a part). Held by the callbacks of
// the feature lookups and of the batchers until the last one answers.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/inference.pb.h"
#include "grpcpp/support/server_callback.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/entity_rows.h"
#include "libs/serving/feature_port.h"
#include "libs/serving/model_set.h"

namespace fabrique::services {

// The input rows of the versions whose signatures have the same inputs.
struct PredictFeed {
  const v1::ModelSignature* signature = nullptr;  // Of the first version fed; held by the parts.
  std::string inputs_key;                         // InputsKey(*signature).
  serving::EntityRowsPlan plan;
  serving::LookupAnswer answer;  // The lookup's; null when every input was supplied.
  serving::EntityRows rows;      // Every request row, assembled.
};

// The request rows one version answers, reached one way.
struct PredictPart {
  serving::Route route;         // Holds the version (and shadow) until answered.
  std::vector<int64_t> rows;    // Request rows, ascending.
  size_t feed = 0;              // Index in PredictCall::feeds.
  std::vector<int> outputs;     // Signature outputs to answer with (WantedOutputs).
  serving::TensorBatch inputs;  // Its rows of the feed, gathered.
  absl::StatusOr<serving::TensorBatch> answer = absl::UnknownError("not answered");
  serving::BatchStats stats;
};

struct PredictCall {
  grpc::ServerUnaryReactor* reactor = nullptr;
  const v1::PredictRequest* request = nullptr;
  v1::PredictResponse* response = nullptr;
  std::string model;
  std::string request_id;
  absl::Time start;
  absl::Time deadline = absl::InfiniteFuture();
  bool logging = false;
  // One per request row (StartPredictions); moved into the response unless the log or a shadow
  // reads them after.
  std::vector<std::string> prediction_ids;
  std::vector<PredictFeed> feeds;
  std::vector<PredictPart> parts;
  absl::Time lookup_start;
  std::atomic<int> lookups_out = 0;  // Lookups not answered yet (for the lookup latency).

  // Lookups or scorings still out, and the first failure among them.
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  absl::Status failure ABSL_GUARDED_BY(mu);

  // Records one answer's `status`; true for the last one (the caller goes on).
  bool Done(const absl::Status& status) {
    absl::MutexLock lock(&mu);
    if (failure.ok() && !status.ok()) failure = status;
    return --pending == 0;
  }
  absl::Status Failure() {
    absl::MutexLock lock(&mu);
    return failure;
  }
  void Expect(int count) {
    absl::MutexLock lock(&mu);
    pending = count;
  }
};

// Routes every row of `call`'s request and groups them into parts and feeds: a version or alias
// asks exactly that version for every row; none, the traffic policy per row by its entity keys.
// Then plans each feed's rows. Errors as ModelSet::Resolve, PlanEntityRows and WantedOutputs
// say, and INVALID_ARGUMENT for no rows or more than `max_rows`.
absl::Status PlanPredictCall(const serving::ModelSet& models, int max_rows, PredictCall& call);

// Makes the prediction ids and starts the response's predictions, one per row in row order,
// with what is known before scoring: the row, its id, the version, alias and canary that answer
// it, and its outputs, named. Predict does it while the features are looked up, when the
// request's thread would otherwise wait: at 100 rows it took some 20 us after the model answered.
void StartPredictions(PredictCall& call);

// Completes the predictions StartPredictions started from every part's answer: output values,
// label, feature issues and, when asked, the features fed.
absl::Status BuildPredictions(PredictCall& call);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_CALL_H_
