#ifndef FABRIQUE_LIBS_AUTH_TOKEN_SIGNING_KEY_H_
#define FABRIQUE_LIBS_AUTH_TOKEN_SIGNING_KEY_H_

// A private key that signs tokens, with the algorithm and key id its tokens carry in their header.
// The matching public key set (JwksJson) is what verifiers load.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/jwt_signature.h"
#include "libs/auth/x509_openssl.h"

namespace fabrique::auth {

class SigningKey {
 public:
  // Returns a fresh ES256 (P-256) key.
  static absl::StatusOr<SigningKey> GenerateEs256();
  // Returns a fresh RS256 key of `bits` bits (at least 2048).
  static absl::StatusOr<SigningKey> GenerateRs256(int bits = 2048);
  // Loads a PEM private key (RSA of 2048 bits or more, or EC P-256). INVALID_ARGUMENT otherwise.
  static absl::StatusOr<SigningKey> FromPem(absl::string_view private_key_pem);

  JwtAlg alg() const { return alg_; }
  // The "kid" of its tokens and of its JWK (KeyIdFor).
  const std::string& kid() const { return kid_; }
  EVP_PKEY* key() const { return key_.get(); }

  // Returns the private key as PKCS#8 PEM, to store it.
  absl::StatusOr<std::string> PrivateKeyPem() const;
  // Returns the JWKS document publishing the public key.
  absl::StatusOr<std::string> JwksJson() const;

 private:
  SigningKey(EvpPkeyPtr key, JwtAlg alg, std::string kid)
      : key_(std::move(key)), alg_(alg), kid_(std::move(kid)) {}
  static absl::StatusOr<SigningKey> FromKey(EvpPkeyPtr key);

  EvpPkeyPtr key_;
  JwtAlg alg_;
  std::string kid_;
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_TOKEN_SIGNING_KEY_H_
