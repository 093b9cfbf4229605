#ifndef FABRIQUE_TOOLS_BENCH_SOAK_LOAD_H_
#define FABRIQUE_TOOLS_BENCH_SOAK_LOAD_H_

// Load for the soak, one call type at a time or several together, from plain threads making
// blocking calls (the calls are small and the rates modest, so a thread per call in flight costs
// little):
// - closed loop: `workers` callers, each making its next call when its answer arrives; what they
//   achieve together is the capacity the open loop is set from;
// - open loop: calls due at a fixed rate whatever the answers do, each timed from when it was due,
//   so a factory that falls behind is charged for the queue it builds.
// Every call's latency and outcome goes to a CallLog, read and emptied once a minute.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace fabrique::bench {

// One call of a kind: `seq` numbers the calls of the kind (it picks the entities); the answer is
// "" when the call succeeded with a right answer, else what went wrong.
using SoakCall = std::function<std::string(uint64_t seq)>;

// The calls of one kind since the log was last taken. Thread-safe.
class CallLog {
 public:
  struct Interval {
    std::vector<double> ms;  // Latency of every call, failed ones included.
    int64_t failed = 0;
    std::string first_problem;  // The first failure's message, "" when none.
  };
  void Record(double ms, const std::string& problem);
  // What was recorded since the last Take, and starts afresh.
  Interval Take();
  // The latencies recorded since the last TakeTrace, for a finer trace than Take's minutes; kept
  // only once TakeTrace has been called.
  std::vector<double> TakeTrace();

 private:
  std::mutex mu_;
  Interval current_;
  bool tracing_ = false;       // Guarded by mu_.
  std::vector<double> trace_;  // Guarded by mu_.
};

// One call kind in a closed-loop run.
struct ClosedLoopPart {
  const SoakCall* call = nullptr;
  int workers = 1;
  CallLog* log = nullptr;
};

// Runs every part at once for `duration`; returns each one's successful calls per second.
std::vector<double> ClosedLoop(const std::vector<ClosedLoopPart>& parts, absl::Duration duration);

// Calls `call` at `rate` per second from `workers` threads until destroyed (or Stop), recording
// each call's latency from when it was due.
class OpenLoop {
 public:
  OpenLoop(SoakCall call, double rate, int workers, CallLog* log);
  ~OpenLoop() { Stop(); }
  OpenLoop(const OpenLoop&) = delete;
  OpenLoop& operator=(const OpenLoop&) = delete;

  // Stops making calls due, then waits for those already due to be answered.
  void Stop();
  // The most calls that were due but not yet begun at once, a sign of falling behind.
  int64_t max_backlog() const { return max_backlog_; }

 private:
  using Clock = std::chrono::steady_clock;
  void Dispatch();
  void Work();

  SoakCall call_;
  double rate_;
  CallLog* log_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::pair<uint64_t, Clock::time_point>> due_;  // Guarded by mu_.
  bool stopping_ = false;                                   // Guarded by mu_.
  int64_t max_backlog_ = 0;                                 // Guarded by mu_.
  std::thread dispatcher_;
  std::vector<std::thread> workers_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SOAK_LOAD_H_
