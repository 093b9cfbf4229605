#ifndef FABRIQUE_TOOLS_CLI_JSON_FILE_H_
#define FABRIQUE_TOOLS_CLI_JSON_FILE_H_

// Reading a message a user wrote as a file, in the protobuf JSON mapping (camelCase or
// snake_case field names, enum values by name), as `fabrique models` takes signatures, versions
// and policies, and `fabrique train submit` a run's spec.

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace fabrique::cli {

// Parses the file at `path` into `message`. INVALID_ARGUMENT when it cannot be read
// (input_file.h) or is not such a message, naming the file, the message type and the parser's
// words: either is a usage error (exit 2).
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message);

// Prints `message` to stdout in the same mapping (indented, proto field names), so that what a
// command prints can be edited and read back with ReadJsonFile.
void PrintJson(const google::protobuf::Message& message);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_JSON_FILE_H_
