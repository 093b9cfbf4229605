#include "libs/auth/jwt_claims.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

absl::Status Malformed(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("malformed token: ", why));
}

absl::Status Missing(absl::string_view claim) {
  return Malformed(absl::StrCat("missing '", claim, "' claim"));
}

absl::Status WrongType(absl::string_view claim, absl::string_view type) {
  return Malformed(absl::StrCat("'", claim, "' claim is not ", type));
}

absl::StatusOr<std::string> RequiredString(const nlohmann::json& payload, const char* claim) {
  const auto it = payload.find(claim);
  if (it == payload.end()) return Missing(claim);
  if (!it->is_string()) return WrongType(claim, "a string");
  if (it->get_ref<const std::string&>().empty()) return Missing(claim);
  return it->get<std::string>();
}

// A NumericDate (RFC 7519 2): seconds since the epoch, possibly fractional.
absl::StatusOr<absl::Time> NumericDate(const nlohmann::json& value, const char* claim) {
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    return WrongType(claim, "a number of seconds");
  }
  // Unsigned values past int64 would wrap to negative times (an nbf in 1969); they take the
  // floating-point path, which saturates to the infinite future instead.
  if (value.is_number_integer() &&
      (!value.is_number_unsigned() ||
       value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return absl::FromUnixSeconds(value.get<int64_t>());
  }
  return absl::UnixEpoch() + absl::Seconds(value.get<double>());
}

absl::StatusOr<std::vector<std::string>> StringList(const nlohmann::json& value, const char* claim,
                                                    bool allow_string) {
  if (allow_string && value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  const char* type = allow_string ? "a string or an array of strings" : "an array of strings";
  if (!value.is_array()) return WrongType(claim, type);
  std::vector<std::string> list;
  for (const nlohmann::json& item : value) {
    if (!item.is_string()) return WrongType(claim, type);
    list.push_back(item.get<std::string>());
  }
  return list;
}

}  // namespace

absl::StatusOr<JwtClaims> ParseJwtClaims(absl::string_view json) {
  const nlohmann::json payload = nlohmann::json::parse(json, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) {
    return Malformed("payload is not a JSON object");
  }
  JwtClaims claims;
  ASSIGN_OR_RETURN(claims.subject, RequiredString(payload, "sub"));
  ASSIGN_OR_RETURN(claims.issuer, RequiredString(payload, "iss"));
  const auto aud = payload.find("aud");
  if (aud == payload.end()) return Missing("aud");
  ASSIGN_OR_RETURN(claims.audiences, StringList(*aud, "aud", /*allow_string=*/true));
  const auto exp = payload.find("exp");
  if (exp == payload.end()) return Missing("exp");
  ASSIGN_OR_RETURN(claims.expires, NumericDate(*exp, "exp"));
  const auto nbf = payload.find("nbf");
  if (nbf != payload.end()) {
    ASSIGN_OR_RETURN(claims.not_before, NumericDate(*nbf, "nbf"));
  }
  const auto groups = payload.find("groups");
  if (groups != payload.end()) {
    ASSIGN_OR_RETURN(claims.groups, StringList(*groups, "groups", /*allow_string=*/false));
  }
  return claims;
}

}  // namespace fabrique::auth
