#ifndef FABRIQUE_LIBS_AUTH_JWT_PARTS_H_
#define FABRIQUE_LIBS_AUTH_JWT_PARTS_H_

// A compact JWS split into what verifying it needs: the signing input, the header's algorithm and
// key id, the signature bytes, and the still-encoded payload (decoded only once the signature
// holds, so nothing unsigned is ever interpreted).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/jwt_signature.h"

namespace fabrique::auth {

struct JwtParts {
  absl::string_view signing_input;    // "<header>.<payload>", as signed; points into the token.
  absl::string_view encoded_payload;  // Points into the token.
  JwtAlg alg;
  std::optional<std::string> kid;  // The header's "kid", if any.
  std::string signature;           // Decoded bytes.
};

// Splits and decodes `token`, which must outlive the result. UNAUTHENTICATED with
// "malformed token: ..." when it is not three base64url parts or the header is not a JSON object
// with a string "alg" (and string "kid", if any, and no "crit" extension), and
// "alg '<alg>' is not accepted" for any algorithm but RS256 and ES256.
absl::StatusOr<JwtParts> SplitJwt(absl::string_view token);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_PARTS_H_
