#ifndef FABRIQUE_LIBS_AUTH_JWKS_H_
#define FABRIQUE_LIBS_AUTH_JWKS_H_

// A JSON Web Key Set: the public keys tokens are verified with, as an identity provider publishes
// them (or as the local authority writes its own). Keys Fabrique cannot use for RS256 or ES256
// (other key types or curves, "use": "enc") are skipped, so a provider's full set still loads.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/jwt_signature.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

// One usable key of a set.
struct Jwk {
  std::string kid;  // Empty when the JWK has none.
  JwtAlg alg;       // What the key verifies: RS256 for RSA keys, ES256 for P-256 keys.
  EvpPkeyPtr key;
};

class Jwks {
 public:
  // Parses a JWKS document ({"keys": [...]}). INVALID_ARGUMENT when it is not JSON, has no "keys"
  // array, a usable key is malformed, two keys share a kid, or no key is usable.
  static absl::StatusOr<Jwks> Parse(absl::string_view json);

  // Reads and parses the JWKS file at `path`; every error's message names the file.
  static absl::StatusOr<Jwks> ReadFile(const std::string& path);

  // Returns the key with id `kid`, or null (always for an empty `kid`).
  const Jwk* FindByKid(absl::string_view kid) const;

  // Returns the set's only key for `alg`, or null when it has none or several (a token without a
  // kid is verified only when its key is unambiguous).
  const Jwk* SoleKeyFor(JwtAlg alg) const;

  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  explicit Jwks(std::vector<Jwk> keys) : keys_(std::move(keys)) {}
  std::vector<Jwk> keys_;
};

// Returns a JWKS document ({"keys": [jwk]}) publishing the public part of `key`, with the kid
// KeyIdFor gives it.
absl::StatusOr<std::string> JwksJsonFor(EVP_PKEY* key);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWKS_H_
