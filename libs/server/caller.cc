#include "libs/server/caller.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace fabrique::server {
namespace {

std::string Metadata(const grpc::ServerContextBase& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

v1::Principal CallerOf(const grpc::ServerContextBase& context) {
  v1::Principal caller;
  caller.set_subject(Metadata(context, "x-fabrique-user"));
  caller.set_squad(Metadata(context, "x-fabrique-squad"));
  for (absl::string_view role :
       absl::StrSplit(Metadata(context, "x-fabrique-roles"), ',', absl::SkipWhitespace())) {
    caller.add_roles(std::string(absl::StripAsciiWhitespace(role)));
  }
  return caller;
}

}  // namespace fabrique::server
