#include "libs/auth/jwt_parts.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/auth/jwt_base64url.h"

namespace fabrique::auth {
namespace {

absl::Status Malformed(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("malformed token: ", why));
}

}  // namespace

absl::StatusOr<JwtParts> SplitJwt(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Malformed("expected three base64url parts separated by '.'");
  const std::optional<std::string> header_json = Base64UrlDecode(parts[0]);
  if (!header_json) return Malformed("header is not base64url");
  const nlohmann::json header = nlohmann::json::parse(*header_json, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Malformed("header is not a JSON object");
  }
  const auto alg_name = header.find("alg");
  if (alg_name == header.end() || !alg_name->is_string()) {
    return Malformed("header has no string 'alg'");
  }
  const std::optional<JwtAlg> alg = ParseJwtAlg(alg_name->get_ref<const std::string&>());
  if (!alg) {
    return absl::UnauthenticatedError(
        absl::StrCat("alg '", alg_name->get_ref<const std::string&>(), "' is not accepted"));
  }
  // RFC 7515 4.1.11: a recipient must refuse extensions it does not understand; Fabrique
  // understands none.
  if (header.contains("crit")) return Malformed("header has a 'crit' extension");
  JwtParts result{token.substr(0, parts[0].size() + 1 + parts[1].size()), parts[1], *alg,
                  std::nullopt, ""};
  const auto kid = header.find("kid");
  if (kid != header.end()) {
    if (!kid->is_string()) return Malformed("'kid' is not a string");
    result.kid = kid->get<std::string>();
  }
  std::optional<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature) return Malformed("signature is not base64url");
  result.signature = *std::move(signature);
  return result;
}

}  // namespace fabrique::auth
