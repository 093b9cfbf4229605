#include "services/inference/capacity_validation.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/core/status_macros.h"
#include "libs/serving/capacity_probe.h"

namespace fabrique::services {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

v1::CapacityProgress Progress(const serving::CapacityProbeProgress& p) {
  v1::CapacityProgress progress;
  progress.set_phase(p.phase);
  ToProto(p.elapsed, progress.mutable_elapsed());
  progress.set_sent(p.sent);
  progress.set_answered(p.answered);
  progress.set_failed(p.failed);
  return progress;
}

v1::CapacityProgress Phase(const std::string& phase) {
  v1::CapacityProgress progress;
  progress.set_phase(phase);
  return progress;
}

v1::Metric ServingMetric(const std::string& name, double value, bool higher_is_better) {
  v1::Metric metric;
  metric.set_name(name);
  metric.set_value(value);
  metric.set_higher_is_better(higher_is_better);
  metric.set_split("capacity");
  return metric;
}

// Frees the server for the next validation when the current one ends, however it ends.
class RunningFlag {
 public:
  explicit RunningFlag(std::atomic<bool>& flag) : flag_(flag) {}
  ~RunningFlag() { flag_ = false; }

 private:
  std::atomic<bool>& flag_;
};

}  // namespace

CapacityValidation::CapacityValidation(CapacityValidationOptions options)
    : options_(std::move(options)) {}

const serving::BatcherOptions& CapacityValidation::BatchingFor(const std::string& model) const {
  const auto it = options_.batching_by_model.find(model);
  return it != options_.batching_by_model.end() ? it->second : options_.batching;
}

absl::StatusOr<v1::CapacityReport> CapacityValidation::Run(
    const v1::ValidateCapacityRequest& request, const std::string& requested_by,
    const std::function<void(const v1::CapacityProgress&)>& progress,
    const std::function<bool()>& cancelled) {
  const v1::ModelVersionRef& ref = request.version();
  if (ref.model().empty() || ref.version() < 1) {
    return absl::InvalidArgumentError(
        "ValidateCapacityRequest.version needs a model and a version number (1, 2, ...)");
  }
  serving::CapacityProbeOptions probe;
  probe.qps = request.qps();
  probe.batch = request.batch();
  probe.duration = FromProto(request.duration());
  probe.saturation_duration = options_.saturation_duration;
  probe.cancelled = cancelled;
  probe.clock = options_.clock;
  RETURN_IF_ERROR(serving::ValidateCapacityProbeOptions(probe));
  ASSIGN_OR_RETURN(v1::ModelVersion record, options_.registry->GetVersion(ref));
  const serving::BatcherOptions& batching = BatchingFor(ref.model());
  if (probe.batch > batching.max_batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch ", probe.batch, " is above this server's max batch size for model '",
                     ref.model(), "' (", batching.max_batch_size, " rows per request)"));
  }
  if (running_.exchange(true)) {
    return absl::ResourceExhaustedError(
        "a capacity validation is already running on this server; try again when it is done");
  }
  RunningFlag running(running_);
  // Enough requests outstanding that every instance always has a full batch waiting.
  const int requests_per_batch = (batching.max_batch_size + probe.batch - 1) / probe.batch;
  probe.max_in_flight = std::max(2, 2 * batching.instances * requests_per_batch);
  probe.progress = [&progress](const serving::CapacityProbeProgress& p) { progress(Progress(p)); };

  progress(Phase("loading"));
  serving::CapacityFigures figures;
  {
    ASSIGN_OR_RETURN(
        std::shared_ptr<serving::ServedVersion> version,
        options_.models->LoadExtra(record, options_.clock->Now() + options_.load_timeout));
    ASSIGN_OR_RETURN(figures, serving::RunCapacityProbe(*version, probe));
  }  // Released here: the model set drops its copy with the last holder.

  v1::CapacityReport report;
  report.set_model(ref.model());
  report.set_version(ref.version());
  report.set_device(figures.device);
  report.set_offered_qps(figures.offered_qps);
  report.set_achieved_qps(figures.achieved_qps);
  report.set_batch(figures.batch);
  ToProto(figures.duration, report.mutable_duration());
  report.set_p50_ms(figures.p50_ms);
  report.set_p99_ms(figures.p99_ms);
  report.set_max_qps(figures.max_qps);
  report.set_failed(figures.failed());
  if (request.dry_run()) return report;

  progress(Phase("recording"));
  v1::VersionEvaluation evaluation;
  evaluation.set_kind("capacity");
  *evaluation.add_metrics() = ServingMetric("serving_p50_ms", figures.p50_ms, false);
  *evaluation.add_metrics() = ServingMetric("serving_p99_ms", figures.p99_ms, false);
  *evaluation.add_metrics() = ServingMetric("serving_max_qps", figures.max_qps, true);
  auto& params = *evaluation.mutable_params();
  params["qps"] = absl::StrCat(figures.offered_qps);
  params["batch"] = absl::StrCat(figures.batch);
  params["duration"] = absl::FormatDuration(FromProto(request.duration()));
  params["device"] = figures.device;
  params["requested_by"] = requested_by;
  params["max_batch_size"] = absl::StrCat(batching.max_batch_size);
  params["instances"] = absl::StrCat(batching.instances);
  evaluation.set_note(absl::StrFormat(
      "offered %.1f requests/s, achieved %.1f; %d of %d load requests and %d saturation "
      "requests failed",
      figures.offered_qps, figures.achieved_qps, figures.load_failed, figures.load_sent,
      figures.saturation_failed));
  ASSIGN_OR_RETURN(*report.mutable_recorded(),
                   options_.registry->AppendEvaluation(ref, evaluation));
  return report;
}

}  // namespace fabrique::services
