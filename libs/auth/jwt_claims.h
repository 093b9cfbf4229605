#ifndef FABRIQUE_LIBS_AUTH_JWT_CLAIMS_H_
#define FABRIQUE_LIBS_AUTH_JWT_CLAIMS_H_

// The claims of a token's payload that Fabrique uses, parsed with their types checked. Whether
// they are acceptable (issuer, audience, times) is the verifier's business.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fabrique::auth {

struct JwtClaims {
  std::string subject;                           // "sub": non-empty.
  std::vector<std::string> groups;               // "groups": empty when absent.
  std::string issuer;                            // "iss".
  std::vector<std::string> audiences;            // "aud": a string or an array of strings.
  absl::Time expires;                            // "exp": required.
  absl::Time not_before = absl::InfinitePast();  // "nbf": InfinitePast when absent.
};

// Parses the decoded payload `json`. UNAUTHENTICATED "malformed token: ..." when it is not a JSON
// object, "sub", "iss", "aud" or "exp" is missing, or a claim has the wrong type.
absl::StatusOr<JwtClaims> ParseJwtClaims(absl::string_view json);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_CLAIMS_H_
