#ifndef FABRIQUE_LIBS_AUTH_TOKEN_MINT_H_
#define FABRIQUE_LIBS_AUTH_TOKEN_MINT_H_

// Minting bearer tokens: a compact JWS (RFC 7515) whose payload carries the claims JwtVerifier
// checks, signed ES256 or RS256 according to the key.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/auth/token_signing_key.h"

namespace fabrique::auth {

struct TokenClaims {
  // "sub": who the token speaks for (a user name). Required.
  std::string subject;
  // "groups": the groups the subject is in, e.g. "risk:data-scientist". May be empty.
  std::vector<std::string> groups;
  // "iss": who issued it, e.g. "fabrique-local". Required.
  std::string issuer;
  // "aud": who it is for, e.g. "fabrique". Required.
  std::string audience;
  // "iat": when it was issued. Omitted when InfinitePast.
  absl::Time issued_at = absl::InfinitePast();
  // "nbf": not valid before. Omitted when InfinitePast.
  absl::Time not_before = absl::InfinitePast();
  // "exp": not valid from then on. Required (finite): Fabrique refuses tokens that never expire.
  absl::Time expires = absl::InfiniteFuture();
};

// Returns the compact JWS "<header>.<payload>.<signature>" for `claims`, signed with `key`; the
// header carries the key's alg and kid. Times are whole Unix seconds (rounded down).
// INVALID_ARGUMENT when a required claim is missing or `expires` is not after `not_before`.
absl::StatusOr<std::string> MintToken(const SigningKey& key, const TokenClaims& claims);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_TOKEN_MINT_H_
