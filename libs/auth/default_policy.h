#ifndef FABRIQUE_LIBS_AUTH_DEFAULT_POLICY_H_
#define FABRIQUE_LIBS_AUTH_DEFAULT_POLICY_H_

// The policy the embedded default (`fabrique up`) writes to DATA_DIR/auth/policy.csv on first
// start. It is also the documentation users read to learn the roles, so it is commented.

#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::auth {

// The complete default policy, in CSV: every organisation role's and service role's `p` rules,
// the pattern binding (a group named SQUAD:ROLE grants ROLE in SQUAD), the services' bindings and
// `g, user:<admin_user>, *:platform-admin`.
std::string DefaultPolicyText(absl::string_view admin_user);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_DEFAULT_POLICY_H_
