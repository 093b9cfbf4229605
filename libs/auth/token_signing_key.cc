#include "libs/auth/token_signing_key.h"

#include "libs/auth/jwks.h"
#include "libs/auth/jwks_key.h"
#include "libs/auth/pem.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {

absl::StatusOr<SigningKey> SigningKey::FromKey(EvpPkeyPtr key) {
  ASSIGN_OR_RETURN(const JwtAlg alg, JwtAlgForKey(key.get()));
  ASSIGN_OR_RETURN(std::string kid, KeyIdFor(key.get()));
  return SigningKey(std::move(key), alg, std::move(kid));
}

absl::StatusOr<SigningKey> SigningKey::GenerateEs256() {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  return FromKey(std::move(key));
}

absl::StatusOr<SigningKey> SigningKey::GenerateRs256(int bits) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateRsaKey(bits));
  return FromKey(std::move(key));
}

absl::StatusOr<SigningKey> SigningKey::FromPem(absl::string_view private_key_pem) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, PrivateKeyFromPem(private_key_pem));
  return FromKey(std::move(key));
}

absl::StatusOr<std::string> SigningKey::PrivateKeyPem() const {
  return PrivateKeyToPem(key_.get());
}

absl::StatusOr<std::string> SigningKey::JwksJson() const { return JwksJsonFor(key_.get()); }

}  // namespace fabrique::auth
