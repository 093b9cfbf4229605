#include "libs/auth/jwt_base64url.h"

#include "absl/strings/escaping.h"

namespace fabrique::auth {
namespace {

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  // One leftover character carries only 6 bits: no byte ends there.
  if (text.size() % 4 == 1) return std::nullopt;
  for (const char c : text) {
    if (!IsBase64UrlChar(c)) return std::nullopt;
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(text, &bytes)) return std::nullopt;
  // Reject non-canonical spellings (unused low bits set in the last character): re-encoding must
  // give back the same text.
  if (Base64UrlEncode(bytes) != text) return std::nullopt;
  return bytes;
}

}  // namespace fabrique::auth
