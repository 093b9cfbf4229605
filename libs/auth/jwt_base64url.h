#ifndef FABRIQUE_LIBS_AUTH_JWT_BASE64URL_H_
#define FABRIQUE_LIBS_AUTH_JWT_BASE64URL_H_

// Base64url without padding (RFC 7515 section 2), the encoding of every part of a compact JWS and
// of a JWK's numbers.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::auth {

// Encodes `bytes` as base64url without '=' padding.
std::string Base64UrlEncode(absl::string_view bytes);

// Decodes unpadded base64url; nullopt when `text` holds any other character (padding, '+', '/',
// whitespace) or has an impossible length. Strict, so one token has exactly one spelling and the
// verified-token cache cannot be filled with variants of it.
std::optional<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_BASE64URL_H_
