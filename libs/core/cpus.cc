#include "libs/core/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

namespace fabrique::core {
namespace {

// The quota over the period, or 0 when there is none (or it cannot be read).
double QuotaCpus(const std::string& root) {
  // cgroup v2: "max 100000" (no limit) or "400000 100000" (4 CPUs).
  std::ifstream v2(root + "/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) {
    if (quota == "max" || period <= 0) return 0;
    try {
      return std::stod(quota) / period;
    } catch (const std::exception&) {
      return 0;
    }
  }
  // cgroup v1: a quota of -1 is no limit.
  std::ifstream v1_quota(root + "/cpu/cpu.cfs_quota_us"),
      v1_period(root + "/cpu/cpu.cfs_period_us");
  double q = 0, p = 0;
  if (v1_quota >> q && v1_period >> p && q > 0 && p > 0) return q / p;
  return 0;
}

}  // namespace

int UsableCpus(const std::string& cgroup_root) {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  const double quota = QuotaCpus(cgroup_root);
  if (quota > 0) cpus = std::min(cpus, static_cast<int>(std::ceil(quota)));
  return std::max(cpus, 1);
}

}  // namespace fabrique::core
