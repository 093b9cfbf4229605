#ifndef FABRIQUE_TESTS_AUTH_TOKEN_FORGE_H_
#define FABRIQUE_TESTS_AUTH_TOKEN_FORGE_H_

// Crafting tokens the product never mints (alg none, tampered, wrong claims, unsigned), so tests
// can prove the verifier refuses them. Test-only on purpose: MintToken has no way to make a bad
// token.

#include <nlohmann/json.hpp>
#include <string>

#include "absl/time/time.h"
#include "libs/auth/token_signing_key.h"

namespace fabrique::auth::testing {

// The header MintToken writes for `key`: alg, typ and kid.
nlohmann::json HeaderFor(const SigningKey& key);

// A payload that passes a verifier for issuer "fabrique-local", audience "fabrique": subject
// "alice", groups ["risk:data-scientist"], valid from `now` - 1 min to `now` + 1 h.
nlohmann::json GoodPayload(absl::Time now);

// Returns "<b64(header)>.<b64(payload)>.<b64(signature)>", signed by `key` with the key's own
// algorithm whatever `header` says; an empty signature part when `key` is null.
std::string ForgeToken(const nlohmann::json& header, const nlohmann::json& payload,
                       const SigningKey* key);

// Returns "<header_part>.<payload_part>.<signature>", the parts taken as they are (already
// encoded, or deliberately not), signed by `key`.
std::string ForgeRawToken(const std::string& header_part, const std::string& payload_part,
                          const SigningKey& key);

// Returns `token` with its part `index` (0 header, 1 payload, 2 signature) replaced by `part`.
std::string ReplacePart(const std::string& token, int index, const std::string& part);

// Writes a JWKS document publishing every key in `keys` to `path` (atomically).
void WriteJwks(const std::string& path, std::initializer_list<const SigningKey*> keys);

}  // namespace fabrique::auth::testing

#endif  // FABRIQUE_TESTS_AUTH_TOKEN_FORGE_H_
