#include "libs/client/pem_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::client {

absl::Status CheckPemFile(const std::string& path, absl::string_view what) {
  if (path.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": no file given"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
  }
  if (!absl::StrContains(text, "-----BEGIN ")) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " '", path, "' holds no PEM block (-----BEGIN ...)"));
  }
  return absl::OkStatus();
}

unsigned int WatchIntervalSeconds(absl::Duration interval) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(interval, absl::Seconds(1)))));
}

}  // namespace fabrique::client
