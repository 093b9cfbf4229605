#include "libs/server/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fabrique::server {
namespace {

// Why `dir` is refused, from its holder's "4242 fabrique-features" line: "fabrique-features is
// already running on DIR (pid 4242)". The holder locks before it writes, so a reader may find
// the file empty for an instant.
std::string DescribeHolder(int fd, const std::string& dir) {
  char buffer[256];
  const ssize_t got = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  const absl::string_view text =
      absl::StripAsciiWhitespace(absl::string_view(buffer, got > 0 ? static_cast<size_t>(got) : 0));
  const size_t space = text.find(' ');
  int pid = 0;
  if (space == absl::string_view::npos || !absl::SimpleAtoi(text.substr(0, space), &pid)) {
    return absl::StrCat("another process is already running on ", dir, " (pid unknown)");
  }
  return absl::StrCat(text.substr(space + 1), " is already running on ", dir, " (pid ", pid, ")");
}

// Whether `fd` is still the file at `path` (not one removed or replaced since it was opened).
bool IsFileAt(int fd, const std::string& path) {
  struct stat opened, named;
  return ::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

// Opens and locks `path`: its descriptor, or -1 when the file was replaced or removed before the
// lock was taken (try again), or the error that refuses the claim.
absl::StatusOr<int> LockFile(const std::string& path, const DataDirLock::Options& options) {
  // O_CLOEXEC: processes this one starts (fabrique up's services) must not hold its claim.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (options.before_lock) options.before_lock();
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int lock_error = errno;
    const std::string holder = DescribeHolder(fd, options.dir);
    ::close(fd);
    if (lock_error != EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot lock ", path, ": ", std::strerror(lock_error)));
    }
    return absl::UnavailableError(
        absl::StrCat(holder, ": stop it first or pass another --data_dir"));
  }
  if (IsFileAt(fd, path)) return fd;
  ::close(fd);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(Options options) {
  if (options.dir.empty() || options.owner.empty()) {
    return absl::InvalidArgumentError("DataDirLock needs a folder and an owner");
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", options.dir, ": ", error.message()));
  }
  const std::string path = absl::StrCat(options.dir, "/", kFileName);
  int fd = -1;
  // A few rounds: each is lost only to a file replaced in the instant between open and lock.
  for (int attempt = 0; fd < 0; ++attempt) {
    if (attempt == 5) {
      return absl::UnavailableError(absl::StrCat(
          path, " keeps being replaced while it is being locked: is another process starting on ",
          options.dir, "?"));
    }
    absl::StatusOr<int> locked = LockFile(path, options);
    if (!locked.ok()) return locked.status();
    fd = *locked;
  }
  const std::string content = absl::StrCat(::getpid(), " ", options.owner, "\n");
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    const int write_error = errno;
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(write_error)));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace fabrique::server
