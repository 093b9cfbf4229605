#ifndef FABRIQUE_TOOLS_BENCH_SOAK_REPORT_H_
#define FABRIQUE_TOOLS_BENCH_SOAK_REPORT_H_

// What the soak prints: a block per minute (each service's resident memory at the minute's end
// and its peak over the minute, what of it sits in capped caches and memtables and the floor of
// the rest (ProcessFigures::capped_mib), and open descriptors,
// each call kind's count, failures, p50 and p99 in that minute, the machine's load average), and
// at the end its goals, each PASS or FAIL:
//   memory     each service's peak RSS of the last minute within 5% of minute 2's (the peak of
//              samples every 5 s: see ProcessFigures::peak_rss_mib);
//   latency    each call kind's per-minute p99 from minute 2 on, max / min within 1.2;
//   failures   no failed call (a wrong answer counts as failed).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/bench/soak_factory.h"
#include "tools/bench/soak_load.h"

namespace fabrique::bench {

// One call kind's minute.
struct KindMinute {
  int64_t calls = 0;
  int64_t failed = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::string first_problem;
};

struct Minute {
  std::map<std::string, ProcessFigures> services;  // By service name.
  std::map<std::string, KindMinute> kinds;         // By call kind.
  double load_average = 0;                         // 1-minute, at the minute's end.
};

class SoakReport {
 public:
  // `kinds` in the order printed; the last ones may be rare (one a minute: a model swap), whose
  // p99 is their worst and is not held to the latency goal.
  SoakReport(std::vector<std::string> kinds, std::vector<std::string> rare_kinds)
      : kinds_(std::move(kinds)), rare_(std::move(rare_kinds)) {}

  // Adds minute `minutes().size() + 1` from the call logs and the services' figures, and prints
  // it.
  void AddMinute(std::map<std::string, CallLog::Interval> calls,
                 std::map<std::string, ProcessFigures> services);

  // Prints the goals; returns the number of failed calls over the whole run.
  int64_t PrintGoals(int64_t failed_before) const;
  // Prints every minute again as one Markdown table.
  void PrintMarkdown() const;

  const std::vector<Minute>& minutes() const { return minutes_; }

 private:
  std::vector<std::string> kinds_;
  std::vector<std::string> rare_;
  std::vector<Minute> minutes_;
};

// The machine's 1-minute load average now; -1 when unreadable.
double LoadAverage();

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SOAK_REPORT_H_
