#include "tools/cli/rpc_call.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/cli/command_flags.h"

namespace fabrique::cli {

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  return absl::StrCat(command, ": ", status.message(), "\n");
}

std::string AccessHint(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return "hint: the server did not accept your credentials. Pass a token with --token, "
             "$FABRIQUE_TOKEN or the credentials file (ask whoever runs Fabrique, or run "
             "'fabrique auth token' where the signing key is readable), or --data_dir of your own "
             "'fabrique up'; 'fabrique auth whoami' shows what the server sees\n";
    case absl::StatusCode::kPermissionDenied:
      return "hint: 'fabrique auth whoami' shows your roles in each squad, and "
             "'fabrique auth can-i PERMISSION --squad SQUAD' says why a permission is or is not "
             "yours; 'fabrique auth permissions' lists them\n";
    default:
      return "";
  }
}

int Fail(absl::string_view command, const absl::Status& status) {
  std::cerr << ErrorLine(command, status) << AccessHint(status);
  return kExitFailure;
}

}  // namespace fabrique::cli
