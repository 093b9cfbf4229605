#ifndef FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_LOAD_H_
#define FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_LOAD_H_

// Load on an Open Inference Protocol server (fabrique-inference, or the Python baseline: both
// speak KServe v2 over gRPC), from gRPC's callback API so that 64 clients cost this process
// neither 64 threads nor a core each:
// - closed loop: `clients` callers, each sending its next request when its answer arrives;
// - open loop: requests sent at a fixed rate whatever the answers do, each timed from when it
//   was due (so a server that falls behind is charged for the queue it builds, not hidden by a
//   client that waits for it).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "inference/grpc_predict_v2.pb.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {

// One request as the load saw it.
struct Sample {
  double due_s = 0;       // When it was due (sent, closed loop), seconds from the run's start.
  double answered_s = 0;  // When its answer (or failure) came, likewise.
  double latency_ms = 0;  // answered - due.
  int64_t version = 0;    // The version that answered (model_version); 0 on failure.
  bool ok = false;
};

// Where the load goes and what it sends.
struct LoadTarget {
  // Requests are spread over these (one HTTP/2 connection each).
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  const Security* security = nullptr;  // Every call's token, if any.
  // Cycled through; not owned.
  const std::vector<::inference::ModelInferRequest>* requests = nullptr;
  // Checks the answer to requests[index]; "" when right. Optional.
  std::function<std::string(size_t index, const ::inference::ModelInferResponse&)> check;
  int check_every = 1;  // Answers per checked one.
  // Called with every sample as its answer arrives, from gRPC's threads. Optional.
  std::function<void(const Sample&)> on_answer;
  absl::Duration timeout = absl::Seconds(10);  // Each call's deadline.
};

struct LoadRun {
  std::deque<Sample> samples;  // Closed loop: in no order; open loop: in the order sent.
  double seconds = 0;          // The measured window.
  int64_t answered = 0;        // OK answers inside the window (closed loop: its throughput).
  int64_t failed = 0;          // Calls that did not return OK.
  int64_t wrong = 0;           // Checked answers that were wrong.
  std::string first_problem;   // The first failure or wrong answer, for the output.

  double RowsPerSecond() const { return seconds > 0 ? answered / seconds : 0; }
  // The p-th percentile of the OK samples' latencies, in ms.
  double LatencyMs(double p) const;
};

// `clients` closed-loop callers for `duration`; answers still in flight at the end are awaited
// but not counted.
LoadRun ClosedLoop(const LoadTarget& target, int clients, absl::Duration duration);

// `rate` requests per second for `duration`, or until `*stop` (when given) becomes true; then
// waits for every answer.
LoadRun OpenLoop(const LoadTarget& target, double rate, absl::Duration duration,
                 const std::atomic<bool>* stop = nullptr);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_LOAD_H_
