#ifndef FABRIQUE_TOOLS_CLI_UP_LAYOUT_H_
#define FABRIQUE_TOOLS_CLI_UP_LAYOUT_H_

// The files of a `fabrique up --data_dir DIR` that other commands read: its local authority under
// DIR/auth (made by auth::LocalAuthority: ca.crt, one certificate per service, signing.key,
// jwks.json; and policy.csv, written by `up`), and DIR/insecure, present while it runs with
// --insecure. Where each service listens is endpoints_file.h's.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace fabrique::cli {

inline std::string AuthDir(const std::string& data_dir) { return absl::StrCat(data_dir, "/auth"); }
inline std::string CaPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/auth/ca.crt");
}
inline std::string SigningKeyPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/auth/signing.key");
}
inline std::string JwksPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/auth/jwks.json");
}
inline std::string PolicyPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/auth/policy.csv");
}
inline std::string InsecureMarkerPath(const std::string& data_dir) {
  return absl::StrCat(data_dir, "/insecure");
}
// The name in a local service's certificate (and its CN): "fabrique-registry".
inline std::string LocalServerName(absl::string_view service) {
  return absl::StrCat("fabrique-", service);
}

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_UP_LAYOUT_H_
