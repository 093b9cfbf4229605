#include "tools/bench/soak_trace.h"

#include <chrono>
#include <ctime>

#include "tools/bench/bench_support.h"
#include "tools/bench/soak_report.h"

namespace fabrique::bench {

SoakTrace::SoakTrace(const std::string& path, std::map<std::string, CallLog>* logs) : logs_(logs) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) {
    std::fprintf(stderr, "cannot write the trace to %s\n", path.c_str());
    return;
  }
  std::fprintf(file_, "time\tload");
  for (const auto& [kind, log] : *logs_) {
    std::fprintf(file_, "\t%s_n\t%s_p99\t%s_max", kind.c_str(), kind.c_str(), kind.c_str());
  }
  std::fprintf(file_, "\n");
  for (auto& [kind, log] : *logs_) log.TakeTrace();  // Starts keeping latencies from now.
  thread_ = std::thread([this] { Run(); });
}

SoakTrace::~SoakTrace() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr) std::fclose(file_);
}

void SoakTrace::Run() {
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    next += std::chrono::seconds(1);
    std::this_thread::sleep_until(next);
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", &utc);
    std::fprintf(file_, "%s\t%.2f", stamp, LoadAverage());
    for (auto& [kind, log] : *logs_) {
      const std::vector<double> ms = log.TakeTrace();
      std::fprintf(file_, "\t%zu\t%.1f\t%.1f", ms.size(), ms.empty() ? 0 : Percentile(ms, 99),
                   ms.empty() ? 0 : Percentile(ms, 100));
    }
    std::fprintf(file_, "\n");
    std::fflush(file_);
  }
}

}  // namespace fabrique::bench
