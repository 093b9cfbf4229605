#include "tools/cli/json_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace fabrique::cli {

absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream text;
  text << file.rdbuf();
  const auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), message);
  if (parsed.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": not a ", message->GetDescriptor()->full_name(),
                   " in protobuf JSON: ", std::string(parsed.message())));
}

}  // namespace fabrique::cli
