#ifndef FABRIQUE_TOOLS_CLI_JSON_FILE_H_
#define FABRIQUE_TOOLS_CLI_JSON_FILE_H_

// Reading a message a user wrote as a file, in the protobuf JSON mapping (camelCase or
// snake_case field names, enum values by name), as `fabrique models` takes signatures, versions
// and policies.

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace fabrique::cli {

// Parses the file at `path` into `message`. NOT_FOUND when it cannot be opened;
// FAILED_PRECONDITION naming the file, the message type and the parser's words when it is not
// such a message (a file to fix, rather than a bad command line).
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_JSON_FILE_H_
