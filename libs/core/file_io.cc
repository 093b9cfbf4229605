#include "libs/core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace fabrique::core {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path, int error) {
  return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

// Writes all of `contents` to `fd`, retrying short writes.
bool WriteAll(int fd, const std::string& contents) {
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return Errno("cannot open", path, error);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Errno("cannot read", path, errno);
  return contents.str();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 mode_t mode) {
  // Unique per process and call, so two writers of one path never share a temporary file.
  static std::atomic<uint64_t> sequence{0};
  const std::string temp = absl::StrCat(path, ".tmp.", ::getpid(), ".", sequence++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("cannot create", temp, errno);
  // open() applies the umask, and a stale temporary file keeps its old mode: fchmod sets exactly
  // `mode` before the first byte is written, so a key is never readable by others, even briefly.
  bool ok = ::fchmod(fd, mode) == 0 && WriteAll(fd, contents) && ::fsync(fd) == 0;
  const int error = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(temp.c_str());
    return Errno("cannot write", temp, error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_error = errno;
    ::unlink(temp.c_str());
    return Errno("cannot rename into", path, rename_error);
  }
  // The rename lives in the directory: sync it too, so the new file survives a power loss.
  // Best effort: some filesystems refuse fsync on a directory, and the file itself is complete.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace fabrique::core
