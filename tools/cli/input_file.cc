#include "tools/cli/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::cli {
namespace {

// Says why `path` could not be read, from errno.
absl::Status ReadError(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status CheckInputFile(const std::string& path) {
  // open(2) rather than a stream, whose failure says nothing of why.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ReadError(path);
  struct stat info;
  const bool directory = ::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode);
  ::close(fd);
  if (directory) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory; expected a file"));
  }
  return absl::OkStatus();
}

absl::Status OpenInputFile(const std::string& path, std::ifstream* in) {
  RETURN_IF_ERROR(CheckInputFile(path));
  in->open(path, std::ios::binary);
  if (!*in) return ReadError(path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadInputFile(const std::string& path) {
  std::ifstream in;
  RETURN_IF_ERROR(OpenInputFile(path, &in));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return ReadError(path);
  return text.str();
}

}  // namespace fabrique::cli
