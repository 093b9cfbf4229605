#ifndef FABRIQUE_LIBS_AUTH_JWT_SIGNATURE_H_
#define FABRIQUE_LIBS_AUTH_JWT_SIGNATURE_H_

// The two JWS algorithms Fabrique accepts, and signing and verifying a JWS signing input
// ("<header>.<payload>") with them. Everything else (none, HS256, PS256, ...) is refused by name,
// so a token cannot choose a weaker check than the key set allows.

#include <openssl/evp.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::auth {

enum class JwtAlg {
  kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256; RSA keys of at least 2048 bits.
  kEs256,  // ECDSA on P-256 with SHA-256; signatures are r||s, 32 bytes each.
};

// Returns "RS256" or "ES256".
absl::string_view JwtAlgName(JwtAlg alg);

// Returns the algorithm named `name`; nullopt for any other name, "none" and HMAC included.
std::optional<JwtAlg> ParseJwtAlg(absl::string_view name);

// Returns the algorithm `key` signs with: RS256 for RSA keys of 2048 bits or more, ES256 for P-256
// keys. INVALID_ARGUMENT for anything else (small RSA keys, other curves, other key types).
absl::StatusOr<JwtAlg> JwtAlgForKey(EVP_PKEY* key);

// Returns the JWS signature of `signing_input` with `private_key` (raw r||s for ES256).
// INTERNAL when OpenSSL fails.
absl::StatusOr<std::string> SignJws(JwtAlg alg, EVP_PKEY* private_key,
                                    absl::string_view signing_input);

// Returns whether `signature` is `alg`'s signature of `signing_input` by `public_key`.
bool VerifyJwsSignature(JwtAlg alg, EVP_PKEY* public_key, absl::string_view signing_input,
                        absl::string_view signature);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_SIGNATURE_H_
