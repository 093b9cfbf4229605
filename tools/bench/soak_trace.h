#ifndef FABRIQUE_TOOLS_BENCH_SOAK_TRACE_H_
#define FABRIQUE_TOOLS_BENCH_SOAK_TRACE_H_

// A second-by-second trace of the soak's calls, to find what makes a bad minute bad: each line
// has the wall-clock time (to set beside RocksDB's LOG of flushes and compactions, which the
// services write in their data dirs), the 1-minute load average, and for each kind of call the
// calls answered in that second, their p99 and their maximum in ms.

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "tools/bench/soak_load.h"

namespace fabrique::bench {

class SoakTrace {
 public:
  // Writes to `path` (truncated) every second until destroyed; `logs` must outlive this.
  // Does nothing when `path` is empty.
  SoakTrace(const std::string& path, std::map<std::string, CallLog>* logs);
  ~SoakTrace();
  SoakTrace(const SoakTrace&) = delete;
  SoakTrace& operator=(const SoakTrace&) = delete;

 private:
  void Run();

  std::map<std::string, CallLog>* logs_;
  std::FILE* file_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SOAK_TRACE_H_
