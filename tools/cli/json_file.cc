#include "tools/cli/json_file.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/status_macros.h"
#include "tools/cli/input_file.h"

namespace fabrique::cli {

absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(const std::string text, ReadInputFile(path));
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, message);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": not a ", message->GetDescriptor()->full_name(),
                   " in protobuf JSON: ", std::string(parsed.message())));
}

void PrintJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  std::cout << text;
  if (text.empty() || text.back() != '\n') std::cout << "\n";
}

}  // namespace fabrique::cli
