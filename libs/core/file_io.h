#ifndef FABRIQUE_LIBS_CORE_FILE_IO_H_
#define FABRIQUE_LIBS_CORE_FILE_IO_H_

// Reading and writing small files whole: keys, certificates, key sets, policies, credentials, the
// serving plan. Writes are atomic (a temporary file in the same directory, fsync, rename), so a
// crash or a concurrent reader never sees half a file, and a watcher of the file sees one change.

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fabrique::core {

// Returns the whole content of `path`. NOT_FOUND when it does not exist, otherwise
// FAILED_PRECONDITION; the message names the file.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

// Replaces `path` with `contents`, created with permission bits `mode` (e.g. 0600 for a private
// key) whatever the umask. FAILED_PRECONDITION, naming the file, when it cannot.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents, mode_t mode);

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_FILE_IO_H_
