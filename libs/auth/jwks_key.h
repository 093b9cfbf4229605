#ifndef FABRIQUE_LIBS_AUTH_JWKS_KEY_H_
#define FABRIQUE_LIBS_AUTH_JWKS_KEY_H_

// One JSON Web Key (RFC 7517/7518) to and from an OpenSSL public key: RSA ("n", "e") and EC P-256
// ("crv", "x", "y"), the key types behind RS256 and ES256.

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

// Returns the public key `jwk` describes. INVALID_ARGUMENT when a member is missing, is not
// base64url, or does not make a valid key (an EC point off the curve, for one).
absl::StatusOr<EvpPkeyPtr> PublicKeyFromJwk(const nlohmann::json& jwk);

// Returns the public JWK of `key` (RSA or EC P-256), with "kid" (KeyIdFor), "alg" and "use": "sig".
absl::StatusOr<nlohmann::json> PublicJwkFor(EVP_PKEY* key);

// Returns the key id Fabrique gives `key`: base64url of the SHA-256 of its DER
// SubjectPublicKeyInfo, cut to 16 characters (96 bits: unique among any key set's few keys, and
// stable, so the same key always has the same id).
absl::StatusOr<std::string> KeyIdFor(EVP_PKEY* key);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWKS_KEY_H_
