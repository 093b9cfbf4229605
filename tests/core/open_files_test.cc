#include "libs/core/open_files.h"

#include <sys/resource.h>

#include "catch2/catch.hpp"
#include "tests/util/child_exit.h"

namespace fabrique::core {
namespace {

TEST_CASE("RaiseOpenFileLimit lifts the soft limit to the hard one", "[open_files]") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max <= 256) {
    WARN("the hard open-file limit is " << limit.rlim_max << ": no room to lower the soft one");
    return;
  }
  // A soft limit of 128 under a hard one of 512, as a container runtime may start a process.
  const int code = testing::ExitCodeInChild([] {
    const rlimit lowered{128, 512};
    if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) return 10;
    if (OpenFileLimit() != 128) return 11;
    const absl::StatusOr<int64_t> raised = RaiseOpenFileLimit();
    if (!raised.ok()) return 12;
    if (*raised != 512) return 13;
    rlimit now{};
    if (getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur != 512 || now.rlim_max != 512) {
      return 14;
    }
    // Already at the hard limit: nothing changes, and it is not an error.
    const absl::StatusOr<int64_t> again = RaiseOpenFileLimit();
    if (!again.ok() || *again != 512) return 15;
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("OpenFileLimit reads the soft limit", "[open_files]") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur == RLIM_INFINITY) {
    CHECK(OpenFileLimit() == -1);
  } else {
    CHECK(OpenFileLimit() == static_cast<int64_t>(limit.rlim_cur));
  }
}

}  // namespace
}  // namespace fabrique::core
