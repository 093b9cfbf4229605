#include "libs/core/open_files.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

// Runs `body` in a forked child, whose limits the test may change freely, and returns its exit
// code (0: every expectation held; another value names the first that did not).
template <typename Body>
int InChild(Body body) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(body());
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST_CASE("RaiseOpenFileLimit lifts the soft limit to the hard one", "[open_files]") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max <= 256) {
    WARN("the hard open-file limit is " << limit.rlim_max << ": no room to lower the soft one");
    return;
  }
  // A soft limit of 128 under a hard one of 512, as a container runtime may start a process.
  const int code = InChild([] {
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
