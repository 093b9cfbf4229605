#include "libs/core/open_files.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fabrique::core {
namespace {

// The most a process may set RLIMIT_NOFILE to, whatever its hard limit says.
rlim_t KernelCeiling() {
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t ceiling = 0;
  if (in >> ceiling && ceiling > 0) return ceiling;
  return 1 << 20;  // Linux's default nr_open.
}

}  // namespace

int64_t OpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<int64_t>(limit.rlim_cur);
}

absl::StatusOr<int64_t> RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot read the open-file limit (getrlimit): ", std::strerror(errno)));
  }
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) target = KernelCeiling();
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return absl::InternalError(absl::StrCat("cannot raise the open-file limit from ", before,
                                              " to ", target,
                                              " (setrlimit): ", std::strerror(errno)));
    }
  }
  return OpenFileLimit();
}

}  // namespace fabrique::core
