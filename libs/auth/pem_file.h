#ifndef FABRIQUE_LIBS_AUTH_PEM_FILE_H_
#define FABRIQUE_LIBS_AUTH_PEM_FILE_H_

// Reading and writing the small files keys, certificates and key sets live in. Writes are atomic
// (a temporary file in the same directory, fsync, rename), so a crash or a concurrent reader never
// sees half a key, and a watcher of the file sees one change.

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fabrique::auth {

// Returns the whole content of `path`. NOT_FOUND when it does not exist, otherwise
// FAILED_PRECONDITION; the message names the file.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

// Replaces `path` with `contents`, created with permission bits `mode` (e.g. 0600 for a private
// key) whatever the umask. FAILED_PRECONDITION, naming the file, when it cannot.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents, mode_t mode);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_PEM_FILE_H_
