#ifndef FABRIQUE_LIBS_SERVING_CAPACITY_PROBE_H_
#define FABRIQUE_LIBS_SERVING_CAPACITY_PROBE_H_

// Measures what one loaded version can serve on this server, so a promotion gate or a design
// authority standard can ask for figures before a version takes production traffic.
//
//   ASSIGN_OR_RETURN(CapacityFigures figures,
//                    RunCapacityProbe(*version, {.qps = 200, .batch = 4,
//                                                .duration = absl::Seconds(30)}));
//
// Two phases, on synthetic rows of the version's signature:
//  - load: an open loop that submits `qps` requests per second for `duration`, whatever the
//    answers do, as independent callers would. Latency runs from Submit to the answer, so the
//    time a request waits in the batcher's queue counts, as it does for a caller.
//  - saturation: a closed loop that keeps `max_in_flight` requests outstanding, so the batcher
//    always has full batches to form; the requests answered per second there are the most this
//    version answers on this server with these batching settings.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "libs/core/clock.h"
#include "libs/serving/served_version.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// `rows` rows of values for every input of `signature`, of its datatype and shape: dimension 0
// is `rows`, other variable dimensions are 1. FP32/FP64 are standard normal, INT32/INT64 small
// non-negative integers, BOOL 0 or 1, BYTES short lowercase ASCII words. The same `seed` gives
// the same rows. INVALID_ARGUMENT when rows < 1 or an input's datatype is not served.
absl::StatusOr<TensorBatch> SyntheticInputs(const v1::ModelSignature& signature, int rows,
                                            uint64_t seed);

// Where a probe is, for the progress callback.
struct CapacityProbeProgress {
  std::string phase;       // "load" or "saturation".
  absl::Duration elapsed;  // Since the phase began.
  int64_t sent = 0;        // Requests submitted in this phase.
  int64_t answered = 0;    // Requests answered with outputs in this phase.
  int64_t failed = 0;      // Requests answered with an error in this phase.
};

struct CapacityProbeOptions {
  double qps = 0;  // Requests per second offered in the load phase, > 0. Required.
  int batch = 1;   // Rows per request, >= 1 (and at most the version's max batch size). Default 1.
  // Length of the load phase, in [1 s, 10 min]. Default 10 s.
  absl::Duration duration = absl::Seconds(10);
  // Length of the saturation phase; zero (default) = min(duration, 5 s).
  absl::Duration saturation_duration = absl::ZeroDuration();
  // Requests kept outstanding in the saturation phase, >= 1; 0 (default) = 64. To keep the
  // batcher full it should cover every instance's batch twice: 2 * instances *
  // ceil(max_batch_size / batch).
  int max_in_flight = 0;
  // How long one request may wait for its answer before it counts as failed. Default 10 s.
  absl::Duration request_timeout = absl::Seconds(10);
  // Called about once a second from the probing thread, and once at the end of each phase.
  std::function<void(const CapacityProbeProgress&)> progress;
  // Asked between submissions; true stops the probe (CANCELLED). May be empty.
  std::function<bool()> cancelled;
  uint64_t seed = 1;                         // Of the synthetic rows. Default 1.
  core::Clock* clock = core::Clock::Real();  // Not owned. Default the real clock.
};

// What a probe measured.
struct CapacityFigures {
  std::string device;  // Where the version runs ("cpu", "cuda:0").
  double offered_qps = 0;
  double achieved_qps = 0;  // Load-phase requests submitted per second of the phase.
  int batch = 0;
  absl::Duration duration;  // Of the load phase, as run.
  double p50_ms = 0;        // Of the load phase's answered requests, Submit to answer.
  double p99_ms = 0;
  double max_qps = 0;  // Saturation-phase requests answered per second.
  int64_t load_sent = 0;
  int64_t load_answered = 0;
  int64_t load_failed = 0;
  int64_t saturation_answered = 0;
  int64_t saturation_failed = 0;
  int64_t failed() const { return load_failed + saturation_failed; }
};

// Checks `options`: INVALID_ARGUMENT naming the flag the user sets (--qps, --batch, --duration)
// when qps <= 0, batch < 1 or duration is outside [1 s, 10 min]; naming the option otherwise.
absl::Status ValidateCapacityProbeOptions(const CapacityProbeOptions& options);

// Runs both phases on `version` (READY) and returns the figures. The option errors above;
// INVALID_ARGUMENT when the signature cannot be synthesised; UNAVAILABLE, with the first error,
// when no load-phase request was answered; CANCELLED when `cancelled` said so. Returns once every
// request it submitted is answered or timed out.
absl::StatusOr<CapacityFigures> RunCapacityProbe(ServedVersion& version,
                                                 const CapacityProbeOptions& options);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_CAPACITY_PROBE_H_
