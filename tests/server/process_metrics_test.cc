// Tests of the process metrics: the /proc parsers on fixture text, the collector on a fixture
// proc folder, and the values it reads for this very process.

#include "libs/server/process_metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <vector>

#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/core/file_io.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

using fabrique::testing::TempDir;

// A stat line whose command name holds spaces and a ')' (proc(5) does not escape it).
constexpr char kStat[] =
    "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0 360000 "
    "123456789 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
constexpr char kSystemStat[] =
    "cpu  1 2 3 4 5 6 7 8 9 10\nintr 5\nctxt 9\nbtime 1700000000\nprocesses 12\n";
constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 1048576              files     \n";

// Name -> value of every family Collect() returns, each with exactly one sample.
std::map<std::string, double> Values(const ProcessMetrics& metrics) {
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : metrics.Collect()) {
    REQUIRE(family.metric.size() == 1);
    const bool counter = family.type == prometheus::MetricType::Counter;
    values[family.name] = counter ? family.metric[0].counter.value : family.metric[0].gauge.value;
  }
  return values;
}

TEST_CASE("a stat line parses from after the command name's last parenthesis") {
  absl::StatusOr<ProcStat> stat = ParseProcStat(kStat);
  REQUIRE(stat.ok());
  CHECK(stat->user_ticks == 250);
  CHECK(stat->system_ticks == 50);
  CHECK(stat->threads == 7);
  CHECK(stat->start_ticks == 360000);
  CHECK(stat->virtual_bytes == 123456789);
  CHECK(stat->resident_pages == 2500);
}

TEST_CASE("a stat line that is cut short or not numeric is refused") {
  CHECK(ParseProcStat("").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseProcStat("12 (x S 1 2 3").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseProcStat("12 (x) S 1 2 3 4 5").status().code() == absl::StatusCode::kInvalidArgument);
  std::string garbled = kStat;
  garbled.replace(garbled.find(" 250 "), 5, " xyz ");
  CHECK(ParseProcStat(garbled).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the boot time is /proc/stat's btime line") {
  absl::StatusOr<double> boot = ParseBootTime(kSystemStat);
  REQUIRE(boot.ok());
  CHECK(*boot == 1700000000);
  CHECK(ParseBootTime("cpu 1 2 3\n").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the descriptor limit is the soft one, and unlimited is infinite") {
  absl::StatusOr<double> max = ParseMaxOpenFiles(kLimits);
  REQUIRE(max.ok());
  CHECK(*max == 1024);
  absl::StatusOr<double> unlimited = ParseMaxOpenFiles(
      "Max open files            unlimited            unlimited            files\n");
  REQUIRE(unlimited.ok());
  CHECK(std::isinf(*unlimited));
  CHECK(ParseMaxOpenFiles("Max cpu time  unlimited  unlimited  seconds\n").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the collector turns a proc folder into the seven standard metrics") {
  TempDir proc;
  REQUIRE(mkdir(proc.Sub("self").c_str(), 0755) == 0);
  REQUIRE(mkdir(proc.Sub("self/fd").c_str(), 0755) == 0);
  for (const char* fd : {"0", "1", "2"}) {
    REQUIRE(core::WriteFileAtomically(proc.Sub(std::string("self/fd/") + fd), "", 0600).ok());
  }
  REQUIRE(core::WriteFileAtomically(proc.Sub("self/stat"), kStat, 0600).ok());
  REQUIRE(core::WriteFileAtomically(proc.Sub("self/limits"), kLimits, 0600).ok());
  REQUIRE(core::WriteFileAtomically(proc.Sub("stat"), kSystemStat, 0600).ok());
  ProcessMetricsOptions options;
  options.proc_root = proc.path();
  options.page_bytes = 4096;
  options.ticks_per_second = 100;
  const std::map<std::string, double> values = Values(ProcessMetrics(options));
  CHECK(values == std::map<std::string, double>{
                      {"process_cpu_seconds_total", 3.0},
                      {"process_resident_memory_bytes", 2500.0 * 4096},
                      {"process_virtual_memory_bytes", 123456789},
                      {"process_threads", 7},
                      {"process_start_time_seconds", 1700000000 + 3600},
                      {"process_open_fds", 3},
                      {"process_max_fds", 1024},
                  });
}

TEST_CASE("a proc file that cannot be read leaves out only the metrics it feeds") {
  TempDir proc;
  REQUIRE(mkdir(proc.Sub("self").c_str(), 0755) == 0);
  REQUIRE(core::WriteFileAtomically(proc.Sub("self/stat"), kStat, 0600).ok());
  ProcessMetricsOptions options;
  options.proc_root = proc.path();
  const std::map<std::string, double> values = Values(ProcessMetrics(options));
  CHECK(values.count("process_resident_memory_bytes") == 1);
  CHECK(values.count("process_cpu_seconds_total") == 1);
  CHECK(values.count("process_threads") == 1);
  CHECK(values.count("process_start_time_seconds") == 0);  // no /proc/stat
  CHECK(values.count("process_open_fds") == 0);            // no fd folder
  CHECK(values.count("process_max_fds") == 0);             // no limits
}

TEST_CASE("this process's metrics are sane, and open descriptors rise as files are opened") {
  const ProcessMetrics metrics;
  const std::map<std::string, double> before = Values(metrics);
  REQUIRE(before.size() == 7);
  CHECK(before.at("process_resident_memory_bytes") > 1 << 20);
  CHECK(before.at("process_virtual_memory_bytes") >= before.at("process_resident_memory_bytes"));
  CHECK(before.at("process_cpu_seconds_total") >= 0);
  CHECK(before.at("process_threads") >= 1);
  CHECK(before.at("process_open_fds") >= 3);
  CHECK(before.at("process_max_fds") >= before.at("process_open_fds"));
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  CHECK(before.at("process_start_time_seconds") <= now + 1);
  CHECK(before.at("process_start_time_seconds") > now - 3600);

  std::vector<int> opened;
  for (int i = 0; i < 5; ++i) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    opened.push_back(fd);
  }
  CHECK(Values(metrics).at("process_open_fds") == before.at("process_open_fds") + 5);
  for (const int fd : opened) close(fd);
  CHECK(Values(metrics).at("process_open_fds") == before.at("process_open_fds"));
}

}  // namespace
}  // namespace fabrique::server
