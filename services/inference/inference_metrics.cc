#include "services/inference/inference_metrics.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace fabrique::services {
namespace {

using prometheus::Histogram;

// Latencies from 100 us (a small batch on a CPU) to 10 s (a deadline's order).
Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

// Batch sizes: powers of two up to 1024 rows.
Histogram::BucketBoundaries RowBuckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }

// Loads take from milliseconds (a cached small module) to minutes (a download and warm-up).
Histogram::BucketBoundaries SwapBuckets() { return {0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300}; }

std::string StateLabel(serving::VersionState state) {
  return absl::AsciiStrToLower(serving::VersionStateName(state));
}

template <typename Builder>
auto& Register(Builder builder, const char* name, const char* help,
               prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

InferenceMetrics::InferenceMetrics(prometheus::Registry& registry)
    : requests_(Register(prometheus::BuildCounter(), "fabrique_inference_requests_total",
                         "Answered inference requests, by model, version and gRPC code.",
                         registry)),
      rows_(Register(prometheus::BuildCounter(), "fabrique_inference_rows_total",
                     "Rows scored, by model and version.", registry)),
      queue_seconds_(Register(prometheus::BuildHistogram(), "fabrique_inference_queue_seconds",
                              "Seconds a request waited in its version's batcher.", registry)),
      compute_seconds_(Register(prometheus::BuildHistogram(), "fabrique_inference_compute_seconds",
                                "Seconds the batch a request was scored in took to compute.",
                                registry)),
      request_seconds_(Register(prometheus::BuildHistogram(), "fabrique_inference_request_seconds",
                                "Seconds from a request's arrival to its answer.", registry)),
      batch_rows_(Register(prometheus::BuildHistogram(), "fabrique_inference_batch_rows",
                           "Rows of the batch each request was scored in.", registry)),
      feature_lookup_seconds_(
          Register(prometheus::BuildHistogram(), "fabrique_inference_feature_lookup_seconds",
                   "Seconds an entity request spent reading online features.", registry)),
      queued_rows_(Register(prometheus::BuildGauge(), "fabrique_inference_queued_rows",
                            "Rows waiting in a version's batcher now.", registry)),
      versions_(Register(prometheus::BuildGauge(), "fabrique_inference_versions",
                         "Versions held now, by model and state (loading, ready, failed, "
                         "unloading).",
                         registry)),
      state_changes_(Register(prometheus::BuildCounter(),
                              "fabrique_inference_version_state_changes_total",
                              "Versions that entered a state, by model and state.", registry)),
      load_failures_(Register(prometheus::BuildCounter(), "fabrique_inference_load_failures_total",
                              "Versions that could not be loaded (the previous one kept "
                              "serving), by model.",
                              registry)),
      swaps_(Register(prometheus::BuildCounter(), "fabrique_inference_swaps_total",
                      "Switches of a model's primary or candidate to another version.", registry)),
      swap_seconds_(Register(prometheus::BuildHistogram(), "fabrique_inference_swap_seconds",
                             "Seconds from the plan asking for a version to its switch.",
                             registry)),
      policy_rows_(Register(prometheus::BuildCounter(), "fabrique_inference_policy_routes_total",
                            "Requests the traffic policy sent to the candidate (route=canary) or "
                            "also scored on it (route=shadow).",
                            registry)),
      shadow_failures_(
          Register(prometheus::BuildCounter(), "fabrique_inference_shadow_failures_total",
                   "Shadow scorings that failed (the answer was unaffected).", registry)),
      log_sent_(Register(prometheus::BuildCounter(), "fabrique_inference_log_records_sent_total",
                         "Prediction records the monitor took.", registry)
                    .Add({})),
      log_rejected_(Register(prometheus::BuildCounter(),
                             "fabrique_inference_log_records_rejected_total",
                             "Prediction records the monitor refused.", registry)
                        .Add({})),
      log_dropped_(Register(prometheus::BuildCounter(),
                            "fabrique_inference_log_records_dropped_total",
                            "Prediction records dropped before reaching the monitor, by reason "
                            "(queue_full, send_failed, stopped).",
                            registry)),
      log_send_errors_(Register(prometheus::BuildCounter(),
                                "fabrique_inference_log_send_errors_total",
                                "Failed tries to send a batch of prediction records.", registry)
                           .Add({})),
      registry_connected_(Register(prometheus::BuildGauge(),
                                   "fabrique_inference_registry_connected",
                                   "1 while the registry watch is connected.", registry)
                              .Add({})),
      registry_revision_(Register(prometheus::BuildGauge(), "fabrique_inference_registry_revision",
                                  "The newest registry revision applied.", registry)
                             .Add({})),
      from_cache_(Register(prometheus::BuildGauge(), "fabrique_inference_serving_from_cache",
                           "1 while serving the plan cached on disk (the registry has not "
                           "answered since the start).",
                           registry)
                      .Add({})),
      ready_(Register(prometheus::BuildGauge(), "fabrique_inference_ready",
                      "1 while the server reports ready (plan applied, every primary READY).",
                      registry)
                 .Add({})) {
  for (serving::DropReason reason :
       {serving::DropReason::kQueueFull, serving::DropReason::kSendFailed,
        serving::DropReason::kStopped}) {
    log_dropped_.Add({{"reason", std::string(serving::DropReasonName(reason))}});
  }
}

void InferenceMetrics::OnRequest(const std::string& model, int64_t version, absl::string_view code,
                                 absl::Duration total, bool computed,
                                 const serving::BatchStats& stats, int64_t rows) {
  const std::string v = absl::StrCat(version);
  requests_.Add({{"model", model}, {"version", v}, {"code", std::string(code)}}).Increment();
  const std::map<std::string, std::string> labels = {{"model", model}, {"version", v}};
  request_seconds_.Add(labels, LatencyBuckets()).Observe(absl::ToDoubleSeconds(total));
  if (!computed) return;
  rows_.Add(labels).Increment(static_cast<double>(rows));
  queue_seconds_.Add(labels, LatencyBuckets()).Observe(absl::ToDoubleSeconds(stats.queue_time));
  compute_seconds_.Add(labels, LatencyBuckets()).Observe(absl::ToDoubleSeconds(stats.compute_time));
  batch_rows_.Add(labels, RowBuckets()).Observe(static_cast<double>(stats.batch_rows));
}

void InferenceMetrics::OnShadowFailed(const std::string& model) {
  shadow_failures_.Add({{"model", model}}).Increment();
}

void InferenceMetrics::OnFeatureLookup(const std::string& model, absl::Duration took) {
  feature_lookup_seconds_.Add({{"model", model}}, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

void InferenceMetrics::SetServing(const std::vector<serving::ServedModelStatus>& models) {
  std::map<std::pair<std::string, std::string>, double> queued, states;
  for (const serving::ServedModelStatus& model : models) {
    for (serving::VersionState state :
         {serving::VersionState::kLoading, serving::VersionState::kReady,
          serving::VersionState::kFailed, serving::VersionState::kUnloading}) {
      states[{model.model, StateLabel(state)}] = 0;
    }
    for (const serving::ServedVersionStatus& version : model.versions) {
      queued[{model.model, absl::StrCat(version.version)}] = version.queued_rows;
      states[{model.model, StateLabel(version.state)}] += 1;
    }
  }
  absl::MutexLock lock(&mu_);
  for (const auto& labels : gauge_labels_) queued.emplace(labels, 0);  // Gone: back to 0.
  for (const auto& labels : state_labels_) states.emplace(labels, 0);
  for (const auto& [labels, value] : queued) {
    queued_rows_.Add({{"model", labels.first}, {"version", labels.second}}).Set(value);
    gauge_labels_.insert(labels);
  }
  for (const auto& [labels, value] : states) {
    versions_.Add({{"model", labels.first}, {"state", labels.second}}).Set(value);
    state_labels_.insert(labels);
  }
}

void InferenceMetrics::SetRegistry(bool connected, int64_t revision, bool from_cache, bool ready) {
  registry_connected_.Set(connected ? 1 : 0);
  registry_revision_.Set(static_cast<double>(revision));
  from_cache_.Set(from_cache ? 1 : 0);
  ready_.Set(ready ? 1 : 0);
}

void InferenceMetrics::OnVersionState(const std::string& model, int64_t version,
                                      serving::VersionState state) {
  state_changes_.Add({{"model", model}, {"state", StateLabel(state)}}).Increment();
}

void InferenceMetrics::OnSwap(const std::string& model, serving::ServingRole role, int64_t from,
                              int64_t to, absl::Duration took) {
  const std::map<std::string, std::string> labels = {
      {"model", model}, {"role", std::string(serving::ServingRoleName(role))}};
  swaps_.Add(labels).Increment();
  swap_seconds_.Add(labels, SwapBuckets()).Observe(absl::ToDoubleSeconds(took));
}

void InferenceMetrics::OnLoadFailed(const std::string& model, int64_t version,
                                    const std::string& reason) {
  load_failures_.Add({{"model", model}}).Increment();
}

void InferenceMetrics::OnPolicyRoute(const std::string& model, bool canary, bool shadow) {
  if (canary) policy_rows_.Add({{"model", model}, {"route", "canary"}}).Increment();
  if (shadow) policy_rows_.Add({{"model", model}, {"route", "shadow"}}).Increment();
}

void InferenceMetrics::OnBatchSent(int64_t sent, int64_t rejected, int attempts) {
  log_sent_.Increment(static_cast<double>(sent));
  log_rejected_.Increment(static_cast<double>(rejected));
}

void InferenceMetrics::OnSendError(const absl::Status& status) { log_send_errors_.Increment(); }

void InferenceMetrics::OnDropped(serving::DropReason reason, int64_t records) {
  log_dropped_.Add({{"reason", std::string(serving::DropReasonName(reason))}})
      .Increment(static_cast<double>(records));
}

}  // namespace fabrique::services
