#include "libs/serving/capacity_probe.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

constexpr absl::Duration kMinDuration = absl::Seconds(1);
constexpr absl::Duration kMaxDuration = absl::Minutes(10);
constexpr absl::Duration kProgressEvery = absl::Seconds(1);
constexpr absl::Duration kDefaultSaturation = absl::Seconds(5);
constexpr int kDefaultMaxInFlight = 64;
// Distinct synthetic batches the probe cycles through, so a module with a cache keyed on its
// inputs does not answer from it every time.
constexpr int kDistinctBatches = 8;
// How long the closed loop waits for an answer before it looks at the clock again.
constexpr absl::Duration kSaturationPoll = absl::Milliseconds(20);

Tensor SyntheticTensor(const v1::TensorSpec& spec, DataType type, int rows, std::mt19937_64& rng) {
  Tensor tensor;
  tensor.name = spec.name();
  tensor.type = type;
  tensor.shape.push_back(rows);
  for (int d = 1; d < spec.shape_size(); ++d) {
    tensor.shape.push_back(spec.shape(d) < 0 ? 1 : spec.shape(d));
  }
  int64_t count = rows;
  for (size_t d = 1; d < tensor.shape.size(); ++d) count *= tensor.shape[d];
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  std::uniform_int_distribution<int> letter('a', 'z');
  for (int64_t i = 0; i < count; ++i) {
    switch (type) {
      case DataType::kFp32:
        tensor.fp32.push_back(static_cast<float>(normal(rng)));
        break;
      case DataType::kFp64:
        tensor.fp64.push_back(normal(rng));
        break;
      case DataType::kInt32:
        tensor.int32.push_back(small(rng));
        break;
      case DataType::kInt64:
        tensor.int64.push_back(small(rng));
        break;
      case DataType::kBool:
        tensor.boolean.push_back(static_cast<uint8_t>(small(rng) % 2));
        break;
      case DataType::kBytes: {
        std::string word(static_cast<size_t>(3 + small(rng) % 6), 'a');
        for (char& c : word) c = static_cast<char>(letter(rng));
        tensor.bytes.push_back(std::move(word));
        break;
      }
    }
  }
  return tensor;
}

// The nearest-rank percentile `p` (0..100) of sorted `values`; 0 when empty.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// What the answers of one phase add up to. Shared with the `done` callbacks, which may outlive
// the probe when a request is answered after its phase gave up on it.
struct PhaseTally {
  absl::Mutex mu;
  int64_t sent ABSL_GUARDED_BY(mu) = 0;
  int64_t answered ABSL_GUARDED_BY(mu) = 0;
  int64_t failed ABSL_GUARDED_BY(mu) = 0;
  int64_t outstanding ABSL_GUARDED_BY(mu) = 0;
  // Answers that came before window_end (the saturation phase counts only those).
  int64_t answered_in_window ABSL_GUARDED_BY(mu) = 0;
  absl::Time window_end ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  std::vector<double> latencies_ms ABSL_GUARDED_BY(mu);
  absl::Status first_error ABSL_GUARDED_BY(mu);
  // Set once the phase stops waiting: later answers change nothing.
  bool closed ABSL_GUARDED_BY(mu) = false;

  CapacityProbeProgress Snapshot(const std::string& phase, absl::Duration elapsed) {
    absl::MutexLock lock(&mu);
    return {phase, elapsed, sent, answered, failed};
  }
};

class Prober {
 public:
  Prober(ServedVersion& version, const CapacityProbeOptions& options,
         std::vector<TensorBatch> inputs)
      : version_(version), options_(options), inputs_(std::move(inputs)) {}

  absl::Status Load(CapacityFigures& figures);
  absl::Status Saturate(CapacityFigures& figures);

 private:
  void Submit(const std::shared_ptr<PhaseTally>& tally);
  bool Cancelled() const { return options_.cancelled && options_.cancelled(); }
  void Report(const std::shared_ptr<PhaseTally>& tally, const std::string& phase, absl::Time start);
  // Waits for every outstanding answer, at most request_timeout past the last submission, then
  // closes the phase: what has not been answered by then counts as failed.
  void Drain(PhaseTally& tally);

  ServedVersion& version_;
  const CapacityProbeOptions& options_;
  const std::vector<TensorBatch> inputs_;
  int64_t submitted_ = 0;
};

void Prober::Submit(const std::shared_ptr<PhaseTally>& tally) {
  core::Clock* clock = options_.clock;
  {
    absl::MutexLock lock(&tally->mu);
    ++tally->sent;
    ++tally->outstanding;
  }
  const absl::Time sent = clock->Now();
  TensorBatch rows = inputs_[static_cast<size_t>(submitted_++ % inputs_.size())];
  version_.Submit(std::move(rows), sent + options_.request_timeout,
                  [tally, clock, sent](absl::StatusOr<TensorBatch> outputs, const BatchStats&) {
                    const absl::Time now = clock->Now();
                    absl::MutexLock lock(&tally->mu);
                    --tally->outstanding;
                    if (tally->closed) return;
                    if (!outputs.ok()) {
                      ++tally->failed;
                      if (tally->first_error.ok()) tally->first_error = outputs.status();
                      return;
                    }
                    ++tally->answered;
                    if (now <= tally->window_end) ++tally->answered_in_window;
                    tally->latencies_ms.push_back(absl::ToDoubleMilliseconds(now - sent));
                  });
}

void Prober::Report(const std::shared_ptr<PhaseTally>& tally, const std::string& phase,
                    absl::Time start) {
  if (options_.progress) {
    options_.progress(tally->Snapshot(phase, options_.clock->Now() - start));
  }
}

void Prober::Drain(PhaseTally& tally) {
  const auto settled = [&tally]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tally.mu) {
    return tally.outstanding == 0;
  };
  absl::MutexLock lock(&tally.mu);
  tally.mu.AwaitWithTimeout(absl::Condition(&settled), options_.request_timeout);
  tally.failed += tally.sent - tally.answered - tally.failed;
  tally.closed = true;
}

absl::Status Prober::Load(CapacityFigures& figures) {
  auto tally = std::make_shared<PhaseTally>();
  core::Clock* clock = options_.clock;
  const absl::Duration interval = absl::Seconds(1) / options_.qps;
  const absl::Time start = clock->Now();
  const absl::Time end = start + options_.duration;
  absl::Time next_progress = start + kProgressEvery;
  int64_t index = 0;
  absl::Time now = start;
  while (now < end) {
    if (Cancelled()) break;
    // Every request whose time has come goes now: a late wake-up catches up rather than
    // lowering the rate offered.
    for (absl::Time due = start + index * interval; due <= now && due < end;
         due = start + index * interval) {
      Submit(tally);
      ++index;
    }
    if (now >= next_progress) {
      Report(tally, "load", start);
      next_progress += kProgressEvery;
    }
    const absl::Time wake = std::min({start + index * interval, next_progress, end});
    clock->SleepUntil(wake, options_.cancelled);
    now = clock->Now();
  }
  const absl::Time stopped = std::min(clock->Now(), end);
  Drain(*tally);
  Report(tally, "load", start);
  if (Cancelled()) return absl::CancelledError("the capacity validation was cancelled");
  absl::MutexLock lock(&tally->mu);
  figures.duration = stopped - start;
  figures.load_sent = tally->sent;
  figures.load_answered = tally->answered;
  figures.load_failed = tally->failed;
  const double seconds = absl::ToDoubleSeconds(figures.duration);
  figures.achieved_qps = seconds > 0 ? static_cast<double>(tally->sent) / seconds : 0;
  if (tally->answered == 0) {
    return absl::UnavailableError(absl::StrCat(
        "no request of the load phase was answered (", tally->failed, " failed",
        tally->first_error.ok() ? "" : absl::StrCat("; first: ", tally->first_error.message()),
        ")"));
  }
  std::sort(tally->latencies_ms.begin(), tally->latencies_ms.end());
  figures.p50_ms = Percentile(tally->latencies_ms, 50);
  figures.p99_ms = Percentile(tally->latencies_ms, 99);
  return absl::OkStatus();
}

absl::Status Prober::Saturate(CapacityFigures& figures) {
  auto tally = std::make_shared<PhaseTally>();
  core::Clock* clock = options_.clock;
  const absl::Duration length = options_.saturation_duration > absl::ZeroDuration()
                                    ? options_.saturation_duration
                                    : std::min(options_.duration, kDefaultSaturation);
  const int64_t in_flight =
      options_.max_in_flight > 0 ? options_.max_in_flight : kDefaultMaxInFlight;
  const absl::Time start = clock->Now();
  const absl::Time end = start + length;
  {
    absl::MutexLock lock(&tally->mu);
    tally->window_end = end;
  }
  absl::Time next_progress = start + kProgressEvery;
  const auto room = [&tally, in_flight]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tally->mu) {
    return tally->outstanding < in_flight;
  };
  while (clock->Now() < end && !Cancelled()) {
    while (true) {
      {
        absl::MutexLock lock(&tally->mu);
        if (!room()) break;
      }
      Submit(tally);
    }
    {
      absl::MutexLock lock(&tally->mu);
      tally->mu.AwaitWithTimeout(absl::Condition(&room), kSaturationPoll);
    }
    const absl::Time now = clock->Now();
    if (now >= next_progress && now < end) {  // The phase's end reports once, after the drain.
      Report(tally, "saturation", start);
      next_progress += kProgressEvery;
    }
  }
  const absl::Duration ran = std::min(clock->Now(), end) - start;
  Drain(*tally);
  Report(tally, "saturation", start);
  if (Cancelled()) return absl::CancelledError("the capacity validation was cancelled");
  absl::MutexLock lock(&tally->mu);
  figures.saturation_answered = tally->answered;
  figures.saturation_failed = tally->failed;
  const double seconds = absl::ToDoubleSeconds(ran);
  figures.max_qps = seconds > 0 ? static_cast<double>(tally->answered_in_window) / seconds : 0;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TensorBatch> SyntheticInputs(const v1::ModelSignature& signature, int rows,
                                            uint64_t seed) {
  if (rows < 1) {
    return absl::InvalidArgumentError(absl::StrCat("synthetic rows must be >= 1, not ", rows));
  }
  std::mt19937_64 rng(seed);
  TensorBatch batch;
  batch.rows = rows;
  for (const v1::TensorSpec& spec : signature.inputs()) {
    absl::StatusOr<DataType> type = ParseDataType(spec.datatype());
    if (!type.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", spec.name(), "' cannot be synthesised: ", type.status().message()));
    }
    batch.tensors.push_back(SyntheticTensor(spec, *type, rows, rng));
  }
  return batch;
}

absl::Status ValidateCapacityProbeOptions(const CapacityProbeOptions& options) {
  if (!(options.qps > 0) || !std::isfinite(options.qps)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--qps must be a number of requests per second > 0, not ", options.qps));
  }
  if (options.batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch must be >= 1 row per request, not ", options.batch));
  }
  if (options.duration < kMinDuration || options.duration > kMaxDuration) {
    return absl::InvalidArgumentError(absl::StrCat("--duration must be from 1s to 10m, not ",
                                                   absl::FormatDuration(options.duration)));
  }
  if (options.saturation_duration < absl::ZeroDuration() ||
      options.saturation_duration > kMaxDuration) {
    return absl::InvalidArgumentError(
        absl::StrCat("CapacityProbeOptions.saturation_duration must be from 0 to 10m, not ",
                     absl::FormatDuration(options.saturation_duration)));
  }
  if (options.max_in_flight < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CapacityProbeOptions.max_in_flight must be >= 0, not ", options.max_in_flight));
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CapacityProbeOptions.request_timeout must be > 0");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("CapacityProbeOptions.clock must not be null");
  }
  return absl::OkStatus();
}

absl::StatusOr<CapacityFigures> RunCapacityProbe(ServedVersion& version,
                                                 const CapacityProbeOptions& options) {
  RETURN_IF_ERROR(ValidateCapacityProbeOptions(options));
  std::vector<TensorBatch> inputs;
  for (int i = 0; i < kDistinctBatches; ++i) {
    ASSIGN_OR_RETURN(TensorBatch rows, SyntheticInputs(version.record().signature(), options.batch,
                                                       options.seed + static_cast<uint64_t>(i)));
    inputs.push_back(std::move(rows));
  }
  CapacityFigures figures;
  figures.device = version.device();
  figures.offered_qps = options.qps;
  figures.batch = options.batch;
  Prober prober(version, options, std::move(inputs));
  RETURN_IF_ERROR(prober.Load(figures));
  RETURN_IF_ERROR(prober.Saturate(figures));
  return figures;
}

}  // namespace fabrique::serving
