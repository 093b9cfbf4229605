#include "libs/server/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/core/file_io.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace fabrique::server {
namespace {

// Fields of /proc/<pid>/stat, counted from 1 as proc(5) does; field 3 is the first after ')'.
constexpr int kFirstFieldAfterName = 3;
constexpr int kUserTicksField = 14;
constexpr int kSystemTicksField = 15;
constexpr int kThreadsField = 20;
constexpr int kStartTicksField = 22;
constexpr int kVirtualBytesField = 23;
constexpr int kResidentPagesField = 24;

absl::Status NotStat(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not a /proc/<pid>/stat line: ", why));
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// Entries of `dir` other than "." and "..": the open descriptors when `dir` is <proc>/self/fd.
// The descriptor opendir holds while reading is among them, as in Prometheus' Go client.
std::optional<double> CountEntries(const std::string& dir) {
  DIR* stream = opendir(dir.c_str());
  if (stream == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(stream)) {
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") ++count;
  }
  closedir(stream);
  return count;
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text) {
  const size_t name_end = text.rfind(')');
  if (name_end == absl::string_view::npos) return NotStat("no ')' after the command name");
  const std::vector<absl::string_view> fields =
      absl::StrSplit(text.substr(name_end + 1), ' ', absl::SkipWhitespace());
  auto field = [&](int number, double* out) {
    const size_t index = number - kFirstFieldAfterName;
    return index < fields.size() &&
           absl::SimpleAtod(absl::StripAsciiWhitespace(fields[index]), out);
  };
  ProcStat stat;
  if (!field(kUserTicksField, &stat.user_ticks) || !field(kSystemTicksField, &stat.system_ticks) ||
      !field(kThreadsField, &stat.threads) || !field(kStartTicksField, &stat.start_ticks) ||
      !field(kVirtualBytesField, &stat.virtual_bytes) ||
      !field(kResidentPagesField, &stat.resident_pages)) {
    return NotStat(absl::StrCat("fewer than ", kResidentPagesField, " numeric fields"));
  }
  return stat;
}

absl::StatusOr<double> ParseBootTime(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "btime ")) continue;
    double seconds = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(line), &seconds)) return seconds;
  }
  return absl::InvalidArgumentError("no \"btime <seconds>\" line in /proc/stat");
}

absl::StatusOr<double> ParseMaxOpenFiles(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // "Max open files            1024                 1048576              files"
    if (!absl::ConsumePrefix(&line, "Max open files")) continue;
    const std::vector<absl::string_view> limits = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (limits.empty()) break;
    if (limits[0] == "unlimited") return std::numeric_limits<double>::infinity();
    double soft = 0;
    if (absl::SimpleAtod(limits[0], &soft)) return soft;
    break;
  }
  return absl::InvalidArgumentError("no \"Max open files <soft> <hard>\" line in limits");
}

ProcessMetrics::ProcessMetrics(ProcessMetricsOptions options) : options_(std::move(options)) {
  if (options_.page_bytes <= 0) options_.page_bytes = sysconf(_SC_PAGESIZE);
  if (options_.ticks_per_second <= 0) options_.ticks_per_second = sysconf(_SC_CLK_TCK);
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  const std::string self = options_.proc_root + "/self";
  const double ticks = static_cast<double>(options_.ticks_per_second);
  std::vector<prometheus::MetricFamily> families;
  absl::StatusOr<ProcStat> stat = [&]() -> absl::StatusOr<ProcStat> {
    absl::StatusOr<std::string> text = core::ReadSmallFile(self + "/stat");
    if (!text.ok()) return text.status();
    return ParseProcStat(*text);
  }();
  if (stat.ok()) {
    families.push_back(
        Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::Counter, (stat->user_ticks + stat->system_ticks) / ticks));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, stat->resident_pages * options_.page_bytes));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, stat->virtual_bytes));
    families.push_back(Family("process_threads", "Number of OS threads in the process.",
                              MetricType::Gauge, stat->threads));
    absl::StatusOr<std::string> system = core::ReadSmallFile(options_.proc_root + "/stat");
    absl::StatusOr<double> boot = system.ok() ? ParseBootTime(*system) : system.status();
    if (boot.ok()) {
      families.push_back(Family("process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.",
                                MetricType::Gauge, *boot + stat->start_ticks / ticks));
    }
  }
  if (const std::optional<double> open = CountEntries(self + "/fd"); open.has_value()) {
    families.push_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *open));
  }
  absl::StatusOr<std::string> limits = core::ReadSmallFile(self + "/limits");
  absl::StatusOr<double> max_fds = limits.ok() ? ParseMaxOpenFiles(*limits) : limits.status();
  if (max_fds.ok()) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *max_fds));
  }
  return families;
}

}  // namespace fabrique::server
