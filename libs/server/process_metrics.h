#ifndef FABRIQUE_LIBS_SERVER_PROCESS_METRICS_H_
#define FABRIQUE_LIBS_SERVER_PROCESS_METRICS_H_

// The process metrics every Prometheus client library exports, under the same names, so
// dashboards and alerts written for any Prometheus-instrumented server work on ours:
//   process_resident_memory_bytes   gauge    resident set size
//   process_virtual_memory_bytes    gauge    virtual memory size
//   process_cpu_seconds_total       counter  user + system CPU time
//   process_open_fds                gauge    open file descriptors
//   process_max_fds                 gauge    the soft limit on open file descriptors
//   process_start_time_seconds      gauge    start time, seconds since the Unix epoch
//   process_threads                 gauge    threads
// Read from /proc at each scrape (no thread, no staleness), as Prometheus' Go client does. A
// file that cannot be read or parsed leaves out the metrics it feeds; the scrape still answers.
//
//   host->AddCollectable(process_metrics);  // a std::shared_ptr<ProcessMetrics> the host keeps

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace fabrique::server {

// The fields of /proc/<pid>/stat the metrics need, in the kernel's units.
struct ProcStat {
  double user_ticks = 0;      // utime (field 14), clock ticks
  double system_ticks = 0;    // stime (field 15), clock ticks
  double threads = 0;         // num_threads (field 20)
  double start_ticks = 0;     // starttime (field 22), clock ticks after boot
  double virtual_bytes = 0;   // vsize (field 23), bytes
  double resident_pages = 0;  // rss (field 24), pages
};

// Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last ')'. INVALID_ARGUMENT when the text is not a stat line.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text);

// The boot time in seconds since the Unix epoch, from /proc/stat's "btime" line.
// INVALID_ARGUMENT when there is none.
absl::StatusOr<double> ParseBootTime(absl::string_view text);

// The soft "Max open files" limit from /proc/<pid>/limits; "unlimited" reads as +Inf.
// INVALID_ARGUMENT when the line is missing.
absl::StatusOr<double> ParseMaxOpenFiles(absl::string_view text);

struct ProcessMetricsOptions {
  // The proc filesystem: <proc_root>/self/{stat,limits,fd} and <proc_root>/stat are read. Tests
  // point it at a folder of fixtures. Default "/proc".
  std::string proc_root = "/proc";
  // Bytes per page, for the resident size. 0 asks the system (sysconf). Default 0.
  long page_bytes = 0;
  // Clock ticks per second, for CPU and start time. 0 asks the system (sysconf). Default 0.
  long ticks_per_second = 0;
};

class ProcessMetrics : public prometheus::Collectable {
 public:
  explicit ProcessMetrics(ProcessMetricsOptions options = {});
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ProcessMetricsOptions options_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_PROCESS_METRICS_H_
