#ifndef FABRIQUE_LIBS_CORE_CPUS_H_
#define FABRIQUE_LIBS_CORE_CPUS_H_

// How many CPUs this process may really use: the CPUs it may run on (its affinity), capped by
// its cgroup's CPU quota (a Kubernetes CPU limit; cgroup v2 `cpu.max`, or v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up, at least 1. What a thread pool should
// default to: a pod limited to 4 CPUs on a 64-core node that starts 64 compute threads spends
// most of its time throttled.

#include <string>

namespace fabrique::core {

// `cgroup_root` is where the cgroup filesystem is mounted (tests point it elsewhere).
int UsableCpus(const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_CPUS_H_
