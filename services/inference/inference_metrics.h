#ifndef FABRIQUE_SERVICES_INFERENCE_INFERENCE_METRICS_H_
#define FABRIQUE_SERVICES_INFERENCE_INFERENCE_METRICS_H_

// The inference server's Prometheus metrics. Per model and version:
//   fabrique_inference_requests_total{model,version,code}      answered requests, by gRPC code
//   fabrique_inference_rows_total{model,version}               rows scored
//   fabrique_inference_queue_seconds / _compute_seconds / _request_seconds{model,version}
//   fabrique_inference_batch_rows{model,version}               rows of the batches computed
//   fabrique_inference_feature_lookup_seconds{model}           online feature reads (entity calls)
//   fabrique_inference_queued_rows{model,version}              rows waiting in a batcher now
//   fabrique_inference_versions{model,state}                   versions per state now
//   fabrique_inference_version_state_changes_total{model,state}
//   fabrique_inference_load_failures_total{model}
//   fabrique_inference_swaps_total{model,role}, fabrique_inference_swap_seconds{model,role}
//   fabrique_inference_policy_routes_total{model,route}        canary / shadow requests
//   fabrique_inference_shadow_failures_total{model}
// Prediction log: fabrique_inference_log_records_sent_total, _rejected_total,
// fabrique_inference_log_records_dropped_total{reason}, fabrique_inference_log_send_errors_total.
// Registry: fabrique_inference_registry_connected, fabrique_inference_registry_revision,
// fabrique_inference_serving_from_cache, fabrique_inference_ready.

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/model_set_observer.h"
#include "libs/serving/prediction_logger.h"
#include "libs/serving/served_model_status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class InferenceMetrics final : public serving::ModelSetObserver,
                               public serving::PredictionLogObserver {
 public:
  // Registers the metrics in `registry`, which must outlive this.
  explicit InferenceMetrics(prometheus::Registry& registry);

  // One answered request to `version` of `model` with `code` (a grpc::StatusCode's name, e.g.
  // "OK", "INVALID_ARGUMENT"); `version` 0 when it failed before a version was chosen. `stats`
  // and `rows` only count for answers computed by a batch (`computed`).
  void OnRequest(const std::string& model, int64_t version, absl::string_view code,
                 absl::Duration total, bool computed, const serving::BatchStats& stats,
                 int64_t rows);
  // A shadow scoring failed (the caller's answer is unaffected).
  void OnShadowFailed(const std::string& model);
  // Seconds one entity request spent reading online features.
  void OnFeatureLookup(const std::string& model, absl::Duration took);

  // The gauges that follow the model set and the follower, set from a fresh reading.
  void SetServing(const std::vector<serving::ServedModelStatus>& models);
  void SetRegistry(bool connected, int64_t revision, bool from_cache, bool ready);

  // serving::ModelSetObserver.
  void OnVersionState(const std::string& model, int64_t version,
                      serving::VersionState state) override;
  void OnSwap(const std::string& model, serving::ServingRole role, int64_t from, int64_t to,
              absl::Duration took) override;
  void OnLoadFailed(const std::string& model, int64_t version, const std::string& reason) override;
  void OnPolicyRoute(const std::string& model, bool canary, bool shadow) override;

  // serving::PredictionLogObserver.
  void OnBatchSent(int64_t sent, int64_t rejected, int attempts) override;
  void OnSendError(const absl::Status& status) override;
  void OnDropped(serving::DropReason reason, int64_t records) override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& rows_;
  prometheus::Family<prometheus::Histogram>& queue_seconds_;
  prometheus::Family<prometheus::Histogram>& compute_seconds_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Family<prometheus::Histogram>& batch_rows_;
  prometheus::Family<prometheus::Histogram>& feature_lookup_seconds_;
  prometheus::Family<prometheus::Gauge>& queued_rows_;
  prometheus::Family<prometheus::Gauge>& versions_;
  prometheus::Family<prometheus::Counter>& state_changes_;
  prometheus::Family<prometheus::Counter>& load_failures_;
  prometheus::Family<prometheus::Counter>& swaps_;
  prometheus::Family<prometheus::Histogram>& swap_seconds_;
  prometheus::Family<prometheus::Counter>& policy_rows_;
  prometheus::Family<prometheus::Counter>& shadow_failures_;
  prometheus::Counter& log_sent_;
  prometheus::Counter& log_rejected_;
  prometheus::Family<prometheus::Counter>& log_dropped_;
  prometheus::Counter& log_send_errors_;
  prometheus::Gauge& registry_connected_;
  prometheus::Gauge& registry_revision_;
  prometheus::Gauge& from_cache_;
  prometheus::Gauge& ready_;

  // Label sets of the per-version gauges set so far, so ones that left are set back to 0.
  absl::Mutex mu_;
  std::set<std::pair<std::string, std::string>> gauge_labels_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> state_labels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_INFERENCE_METRICS_H_
