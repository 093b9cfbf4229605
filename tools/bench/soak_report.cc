#include "tools/bench/soak_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace fabrique::bench {
namespace {

constexpr double kMaxRssGrowth = 0.05;
constexpr double kMaxP99Spread = 1.2;
// The minute the goals count from: the first one warms caches, connections and allocators.
constexpr size_t kSettledMinute = 2;

const char* Verdict(bool met) { return met ? "PASS" : "FAIL"; }

}  // namespace

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return in ? load : -1;
}

void SoakReport::AddMinute(std::map<std::string, CallLog::Interval> calls,
                           std::map<std::string, ProcessFigures> services) {
  Minute minute;
  minute.services = std::move(services);
  minute.load_average = LoadAverage();
  for (auto& [kind, interval] : calls) {
    KindMinute& k = minute.kinds[kind];
    k.calls = static_cast<int64_t>(interval.ms.size());
    k.failed = interval.failed;
    k.first_problem = interval.first_problem;
    if (!interval.ms.empty()) {
      k.p50_ms = Percentile(interval.ms, 50);
      k.p99_ms = Percentile(interval.ms, 99);
    }
  }
  minutes_.push_back(std::move(minute));
  const Minute& m = minutes_.back();
  std::printf("\nminute %zu (load average %.2f)\n", minutes_.size(), m.load_average);
  std::printf("  %-10s %10s %10s %10s %14s %8s\n", "service", "RSS MiB", "peak MiB", "capped MiB",
              "floor outside", "open fds");
  for (const auto& [name, figures] : m.services) {
    std::printf("  %-10s %10.1f %10.1f %10.1f %14.1f %8.0f%s\n", name.c_str(), figures.rss_mib,
                figures.peak_rss_mib, figures.capped_mib, figures.floor_uncapped_mib,
                figures.open_fds,
                figures.from_metrics ? "" : "  (from /proc: no process_* metrics)");
  }
  std::printf("  %-10s %8s %7s %9s %9s\n", "call", "calls", "failed", "p50 ms", "p99 ms");
  for (const std::string& kind : kinds_) {
    const auto found = m.kinds.find(kind);
    if (found == m.kinds.end()) continue;
    const KindMinute& k = found->second;
    std::printf("  %-10s %8lld %7lld %9.2f %9.2f\n", kind.c_str(), static_cast<long long>(k.calls),
                static_cast<long long>(k.failed), k.p50_ms, k.p99_ms);
    if (!k.first_problem.empty()) std::printf("    first failure: %s\n", k.first_problem.c_str());
  }
  std::fflush(stdout);
}

int64_t SoakReport::PrintGoals(int64_t failed_before) const {
  std::printf("\nGoals (from minute %zu to minute %zu)\n", kSettledMinute, minutes_.size());
  if (minutes_.size() < kSettledMinute) {
    std::printf("  too few minutes for the memory and latency goals\n");
  } else {
    const Minute& first = minutes_[kSettledMinute - 1];
    const Minute& last = minutes_.back();
    for (const auto& [name, figures] : first.services) {
      const double from = figures.peak_rss_mib;
      const double to = last.services.at(name).peak_rss_mib;
      const double growth = from > 0 ? to / from - 1 : 0;
      std::printf("  %-34s %7.1f -> %7.1f MiB  %+6.2f%%  (goal < %+.0f%%)  %s\n",
                  absl::StrFormat("RSS growth, %s (peak)", name).c_str(), from, to, 100 * growth,
                  100 * kMaxRssGrowth, Verdict(from > 0 && growth < kMaxRssGrowth));
    }
    // Figures printed beside the goal, without one of their own.
    const auto print_growth = [&](const char* label, double ProcessFigures::*figure,
                                  const char* note) {
      for (const auto& [name, figures] : first.services) {
        const double from = figures.*figure;
        const double to = last.services.at(name).*figure;
        std::printf("  %-34s %7.1f -> %7.1f MiB  %+6.2f%%  (%s: no goal)\n",
                    absl::StrFormat("%s, %s", label, name).c_str(), from, to,
                    from > 0 ? 100 * (to / from - 1) : 0, note);
      }
    };
    // Caches fill up to their caps by design, and memtables fill and flush; a leak grows outside
    // them, and raises the floor that transients leave.
    print_growth("RSS outside caps (floor)", &ProcessFigures::floor_uncapped_mib,
                 "outside caches, memtables");
    print_growth("RSS at the minute's end", &ProcessFigures::rss_mib, "one instant");
    for (const auto& [name, figures] : first.services) {
      std::printf("  %-34s %7.0f -> %7.0f\n", absl::StrFormat("open fds, %s", name).c_str(),
                  figures.open_fds, last.services.at(name).open_fds);
    }
    for (const std::string& kind : kinds_) {
      double low = 0, high = 0;
      bool any = false;
      for (size_t i = kSettledMinute - 1; i < minutes_.size(); ++i) {
        const auto found = minutes_[i].kinds.find(kind);
        if (found == minutes_[i].kinds.end() || found->second.calls == 0) continue;
        const double p99 = found->second.p99_ms;
        low = any ? std::min(low, p99) : p99;
        high = any ? std::max(high, p99) : p99;
        any = true;
      }
      if (!any) continue;
      const bool rare = std::find(rare_.begin(), rare_.end(), kind) != rare_.end();
      const double spread = low > 0 ? high / low : 0;
      if (rare) {
        std::printf("  %-34s %7.2f .. %7.2f ms  (one a minute: no goal)\n",
                    absl::StrFormat("%s time, per minute", kind).c_str(), low, high);
      } else {
        std::printf("  %-34s %7.2f .. %7.2f ms  %.2fx  (goal <= %.1fx)  %s\n",
                    absl::StrFormat("p99 stability, %s", kind).c_str(), low, high, spread,
                    kMaxP99Spread, Verdict(low > 0 && spread <= kMaxP99Spread));
      }
    }
  }
  int64_t failed = failed_before;
  int64_t calls = 0;
  for (const Minute& minute : minutes_) {
    for (const auto& [kind, k] : minute.kinds) {
      failed += k.failed;
      calls += k.calls;
    }
  }
  std::printf("  %-34s %lld of %lld (goal 0)  %s\n", "failed calls", static_cast<long long>(failed),
              static_cast<long long>(calls), Verdict(failed == 0));
  return failed;
}

void SoakReport::PrintMarkdown() const {
  if (minutes_.empty()) return;
  std::vector<std::string> header = {"minute", "load avg"};
  for (const auto& [name, figures] : minutes_.front().services) {
    header.push_back(absl::StrCat(name, " RSS MiB end / peak / floor outside caps / fds"));
  }
  for (const std::string& kind : kinds_) {
    const bool rare = std::find(rare_.begin(), rare_.end(), kind) != rare_.end();
    header.push_back(rare ? absl::StrCat(kind, " ms") : absl::StrCat(kind, " calls / p99 ms"));
  }
  header.push_back("failed");
  std::printf("\nAs Markdown:\n\n| %s |\n|", absl::StrJoin(header, " | ").c_str());
  for (size_t c = 0; c < header.size(); ++c) std::printf(c < 2 ? "---|" : "---:|");
  std::printf("\n");
  for (size_t i = 0; i < minutes_.size(); ++i) {
    const Minute& m = minutes_[i];
    std::vector<std::string> cells = {absl::StrCat(i + 1), absl::StrFormat("%.2f", m.load_average)};
    for (const auto& [name, figures] : m.services) {
      cells.push_back(absl::StrFormat("%.1f / %.1f / %.1f / %.0f", figures.rss_mib,
                                      figures.peak_rss_mib, figures.floor_uncapped_mib,
                                      figures.open_fds));
    }
    int64_t failed = 0;
    for (const std::string& kind : kinds_) {
      const auto found = m.kinds.find(kind);
      const KindMinute k = found == m.kinds.end() ? KindMinute() : found->second;
      failed += k.failed;
      const bool rare = std::find(rare_.begin(), rare_.end(), kind) != rare_.end();
      cells.push_back(
          rare ? absl::StrFormat("%.0f", k.p99_ms)
               : absl::StrFormat("%lld / %.1f", static_cast<long long>(k.calls), k.p99_ms));
    }
    cells.push_back(absl::StrCat(failed));
    std::printf("| %s |\n", absl::StrJoin(cells, " | ").c_str());
  }
}

}  // namespace fabrique::bench
