#ifndef FABRIQUE_SERVICES_INFERENCE_CAPACITY_VALIDATION_H_
#define FABRIQUE_SERVICES_INFERENCE_CAPACITY_VALIDATION_H_

// What EntityInference.ValidateCapacity does, without gRPC: checks the request, reads the version
// from the registry, loads a copy of it beside the served versions (never routed to), measures
// it with the capacity probe (libs/serving/capacity_probe.h), releases it, and appends the
// figures to the version in the registry as a "capacity" evaluation, so promotion gates and
// standards can require them like any metric. One validation runs at a time per server: the
// probe saturates the machine, and two at once would measure each other.

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/inference.pb.h"
#include "libs/core/clock.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/model_set.h"
#include "libs/serving/registry_port.h"

namespace fabrique::services {

struct CapacityValidationOptions {
  serving::RegistryPort* registry = nullptr;  // Required; not owned; outlives the validation.
  serving::ModelSet* models = nullptr;        // Required; not owned; outlives the validation.
  // The batching every model gets, and per model the overrides (as the model set was given):
  // a request's rows are at most the model's max_batch_size.
  serving::BatcherOptions batching;
  std::map<std::string, serving::BatcherOptions> batching_by_model;
  // How long the version may take to load before the call fails. Default 5 min.
  absl::Duration load_timeout = absl::Minutes(5);
  // Length of the saturation phase; zero (default) = the probe's default (min(duration, 5 s)).
  absl::Duration saturation_duration = absl::ZeroDuration();
  core::Clock* clock = core::Clock::Real();  // Not owned. Default the real clock.
};

class CapacityValidation {
 public:
  explicit CapacityValidation(CapacityValidationOptions options);

  // Runs one validation for `requested_by` (recorded in the evaluation's params) and returns its
  // report; `progress` gets the "loading" message, then about one a second ("load",
  // "saturation"), then "recording" unless dry_run; `cancelled` (may be empty) stops the load.
  // INVALID_ARGUMENT naming the flag (--qps, --batch, --duration) or the version; NOT_FOUND for
  // an unknown version; RESOURCE_EXHAUSTED while another validation runs; the load's error;
  // UNAVAILABLE when nothing was answered; CANCELLED; the registry's error when appending.
  absl::StatusOr<v1::CapacityReport> Run(
      const v1::ValidateCapacityRequest& request, const std::string& requested_by,
      const std::function<void(const v1::CapacityProgress&)>& progress,
      const std::function<bool()>& cancelled);

 private:
  const serving::BatcherOptions& BatchingFor(const std::string& model) const;

  const CapacityValidationOptions options_;
  std::atomic<bool> running_{false};
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_CAPACITY_VALIDATION_H_
