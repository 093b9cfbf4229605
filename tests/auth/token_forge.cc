#include "tests/auth/token_forge.h"

#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/auth/jwks_key.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/jwt_signature.h"
#include "libs/core/file_io.h"

namespace fabrique::auth::testing {

nlohmann::json HeaderFor(const SigningKey& key) {
  return {{"alg", std::string(JwtAlgName(key.alg()))}, {"typ", "JWT"}, {"kid", key.kid()}};
}

nlohmann::json GoodPayload(absl::Time now) {
  return {{"sub", "alice"},
          {"groups", {"risk:data-scientist"}},
          {"iss", "fabrique-local"},
          {"aud", "fabrique"},
          {"iat", absl::ToUnixSeconds(now)},
          {"nbf", absl::ToUnixSeconds(now - absl::Minutes(1))},
          {"exp", absl::ToUnixSeconds(now + absl::Hours(1))}};
}

std::string ForgeRawToken(const std::string& header_part, const std::string& payload_part,
                          const SigningKey& key) {
  const std::string input = absl::StrCat(header_part, ".", payload_part);
  absl::StatusOr<std::string> signature = SignJws(key.alg(), key.key(), input);
  if (!signature.ok()) throw std::runtime_error(std::string(signature.status().message()));
  return absl::StrCat(input, ".", Base64UrlEncode(*signature));
}

std::string ForgeToken(const nlohmann::json& header, const nlohmann::json& payload,
                       const SigningKey* key) {
  const std::string header_part = Base64UrlEncode(header.dump());
  const std::string payload_part = Base64UrlEncode(payload.dump());
  if (key == nullptr) return absl::StrCat(header_part, ".", payload_part, ".");
  return ForgeRawToken(header_part, payload_part, *key);
}

std::string ReplacePart(const std::string& token, int index, const std::string& part) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  parts.at(static_cast<size_t>(index)) = part;
  return absl::StrJoin(parts, ".");
}

void WriteJwks(const std::string& path, std::initializer_list<const SigningKey*> keys) {
  nlohmann::json document = {{"keys", nlohmann::json::array()}};
  for (const SigningKey* key : keys) {
    absl::StatusOr<nlohmann::json> jwk = PublicJwkFor(key->key());
    if (!jwk.ok()) throw std::runtime_error(std::string(jwk.status().message()));
    document["keys"].push_back(*jwk);
  }
  const absl::Status written = core::WriteFileAtomically(path, document.dump(), 0644);
  if (!written.ok()) throw std::runtime_error(std::string(written.message()));
}

}  // namespace fabrique::auth::testing
