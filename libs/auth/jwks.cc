#include "libs/auth/jwks.h"

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/jwks_key.h"
#include "libs/core/file_io.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

// Returns whether Fabrique can verify signatures with `jwk`; false for keys that are not RSA or
// EC P-256, and for keys marked for encryption or for another algorithm.
// Members are compared, never converted: a member of the wrong type simply does not match, where
// a conversion would throw.
bool IsUsable(const nlohmann::json& jwk) {
  const auto kty = jwk.find("kty");
  const auto crv = jwk.find("crv");
  const bool p256 = crv != jwk.end() && *crv == "P-256";
  if (kty == jwk.end() || !(*kty == "RSA" || (*kty == "EC" && p256))) return false;
  const auto use = jwk.find("use");
  if (use != jwk.end() && *use != "sig") return false;
  const auto alg = jwk.find("alg");
  return alg == jwk.end() || *alg == (*kty == "RSA" ? "RS256" : "ES256");
}

absl::StatusOr<Jwk> ParseKey(const nlohmann::json& entry, size_t index) {
  const auto context = [index](const absl::Status& status) {
    return absl::InvalidArgumentError(absl::StrCat("key ", index, ": ", status.message()));
  };
  absl::StatusOr<EvpPkeyPtr> key = PublicKeyFromJwk(entry);
  if (!key.ok()) return context(key.status());
  absl::StatusOr<JwtAlg> alg = JwtAlgForKey(key->get());
  if (!alg.ok()) return context(alg.status());
  const auto kid = entry.find("kid");
  if (kid != entry.end() && !kid->is_string())
    return context(absl::InvalidArgumentError("\"kid\" is not a string"));
  return Jwk{kid == entry.end() ? "" : kid->get<std::string>(), *alg, *std::move(key)};
}

}  // namespace

absl::StatusOr<Jwks> Jwks::Parse(absl::string_view json) {
  const nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return absl::InvalidArgumentError("JWKS is not valid JSON");
  const auto entries = document.is_object() ? document.find("keys") : document.end();
  if (entries == document.end() || !entries->is_array()) {
    return absl::InvalidArgumentError("JWKS has no \"keys\" array");
  }
  std::vector<Jwk> keys;
  absl::flat_hash_set<std::string> kids;
  for (size_t i = 0; i < entries->size(); ++i) {
    const nlohmann::json& entry = (*entries)[i];
    if (!entry.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("key ", i, ": not a JSON object"));
    }
    if (!IsUsable(entry)) continue;
    ASSIGN_OR_RETURN(Jwk key, ParseKey(entry, i));
    if (!key.kid.empty() && !kids.insert(key.kid).second) {
      return absl::InvalidArgumentError(absl::StrCat("key id '", key.kid, "' appears twice"));
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return absl::InvalidArgumentError("JWKS has no RS256 or ES256 key");
  return Jwks(std::move(keys));
}

absl::StatusOr<Jwks> Jwks::ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string json, core::ReadSmallFile(path));
  absl::StatusOr<Jwks> jwks = Parse(json);
  if (!jwks.ok()) return core::WithContext(jwks.status(), absl::StrCat("JWKS file ", path));
  return jwks;
}

const Jwk* Jwks::FindByKid(absl::string_view kid) const {
  // An empty kid names nothing, not the first key that has no kid.
  if (kid.empty()) return nullptr;
  for (const Jwk& key : keys_) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

const Jwk* Jwks::SoleKeyFor(JwtAlg alg) const {
  const Jwk* found = nullptr;
  for (const Jwk& key : keys_) {
    if (key.alg != alg) continue;
    if (found != nullptr) return nullptr;
    found = &key;
  }
  return found;
}

absl::StatusOr<std::string> JwksJsonFor(EVP_PKEY* key) {
  ASSIGN_OR_RETURN(nlohmann::json jwk, PublicJwkFor(key));
  const nlohmann::json document = {{"keys", nlohmann::json::array({std::move(jwk)})}};
  return document.dump(2) + "\n";
}

}  // namespace fabrique::auth
