#include "libs/auth/token_mint.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

absl::Status Validate(const TokenClaims& claims) {
  if (claims.subject.empty()) return absl::InvalidArgumentError("a token needs a subject");
  if (claims.issuer.empty()) return absl::InvalidArgumentError("a token needs an issuer");
  if (claims.audience.empty()) return absl::InvalidArgumentError("a token needs an audience");
  if (claims.expires == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("a token needs an expiry time");
  }
  if (claims.expires <= claims.not_before || claims.expires <= claims.issued_at) {
    return absl::InvalidArgumentError("a token must expire after it becomes valid");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MintToken(const SigningKey& key, const TokenClaims& claims) {
  RETURN_IF_ERROR(Validate(claims));
  const nlohmann::json header = {
      {"alg", std::string(JwtAlgName(key.alg()))}, {"typ", "JWT"}, {"kid", key.kid()}};
  nlohmann::json payload = {{"sub", claims.subject},
                            {"groups", claims.groups},
                            {"iss", claims.issuer},
                            {"aud", claims.audience},
                            {"exp", absl::ToUnixSeconds(claims.expires)}};
  if (claims.issued_at != absl::InfinitePast()) {
    payload["iat"] = absl::ToUnixSeconds(claims.issued_at);
  }
  if (claims.not_before != absl::InfinitePast()) {
    payload["nbf"] = absl::ToUnixSeconds(claims.not_before);
  }
  const std::string signing_input =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  ASSIGN_OR_RETURN(const std::string signature, SignJws(key.alg(), key.key(), signing_input));
  return absl::StrCat(signing_input, ".", Base64UrlEncode(signature));
}

}  // namespace fabrique::auth
