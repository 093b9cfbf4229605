// UsableCpus: the affinity, capped by a cgroup v2 or v1 CPU quota, rounded up, at least 1.

#include "libs/core/cpus.h"

#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

int Affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof(set), &set) == 0);
  return CPU_COUNT(&set);
}

struct FakeCgroup {
  std::filesystem::path root;
  FakeCgroup() {
    root = std::filesystem::temp_directory_path() /
           ("fabrique_cpus_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "cpu");
  }
  ~FakeCgroup() { std::filesystem::remove_all(root); }
  void Write(const std::string& file, const std::string& text) {
    std::ofstream(root / file) << text;
  }
};

TEST_CASE("Without a quota, the CPUs this process may run on") {
  FakeCgroup cgroup;
  CHECK(UsableCpus(cgroup.root.string()) == Affinity());
  cgroup.Write("cpu.max", "max 100000\n");
  CHECK(UsableCpus(cgroup.root.string()) == Affinity());
  cgroup.Write("cpu.max", "");
  cgroup.Write("cpu/cpu.cfs_quota_us", "-1\n");
  cgroup.Write("cpu/cpu.cfs_period_us", "100000\n");
  CHECK(UsableCpus(cgroup.root.string()) == Affinity());
}

TEST_CASE("A quota caps them, rounded up, never under 1") {
  FakeCgroup cgroup;
  SECTION("cgroup v2") {
    cgroup.Write("cpu.max", "50000 100000\n");  // Half a CPU.
    CHECK(UsableCpus(cgroup.root.string()) == 1);
    cgroup.Write("cpu.max", "6400000 100000\n");  // 64 CPUs: the affinity is smaller here.
    CHECK(UsableCpus(cgroup.root.string()) == std::min(64, Affinity()));
  }
  SECTION("cgroup v1") {
    cgroup.Write("cpu/cpu.cfs_quota_us", "150000\n");  // 1.5 CPUs -> 2, or the affinity.
    cgroup.Write("cpu/cpu.cfs_period_us", "100000\n");
    CHECK(UsableCpus(cgroup.root.string()) == std::min(2, Affinity()));
  }
}

}  // namespace
}  // namespace fabrique::core
