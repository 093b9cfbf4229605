#ifndef FABRIQUE_TOOLS_CLI_INPUT_FILE_H_
#define FABRIQUE_TOOLS_CLI_INPUT_FILE_H_

// Files a user names on the command line (definitions, CSV, specs, artifacts to upload). A file
// that cannot be used says why in the system's words ("cannot read defs.json: No such file or
// directory", "data/ is a directory"), and is a usage error (exit 2): the command asked nothing
// of any service yet.

#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fabrique::cli {

// Checks that `path` can be opened for reading and is not a directory. INVALID_ARGUMENT saying
// why otherwise (strerror's words for a missing or unreadable file).
absl::Status CheckInputFile(const std::string& path);

// Opens `path` for reading into `in`, after CheckInputFile.
absl::Status OpenInputFile(const std::string& path, std::ifstream* in);

// Returns the whole content of `path`, after CheckInputFile.
absl::StatusOr<std::string> ReadInputFile(const std::string& path);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_INPUT_FILE_H_
