#include "libs/features/catalog/catalog_pagination.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fabrique::features {
namespace {

// Bumped if the cursor layout ever changes, so that old tokens are refused instead of misread.
constexpr char kTokenFormat = 1;

absl::Status BadToken(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "page_token is not valid for this list (", why,
      "); pass the next_page_token of the previous page unchanged, or none for the first page"));
}

}  // namespace

absl::StatusOr<int32_t> ResolvePageSize(int32_t requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", requested,
                                                   " is negative; 0 = default (", kDefaultPageSize,
                                                   "), at most ", kMaxPageSize));
  }
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(PageKind kind, absl::string_view cursor) {
  std::string raw;
  raw.reserve(cursor.size() + 2);
  raw.push_back(kTokenFormat);
  raw.push_back(static_cast<char>(kind));
  raw.append(cursor.data(), cursor.size());
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(PageKind kind, absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return BadToken("not base64");
  if (raw.size() < 2 || raw[0] != kTokenFormat) return BadToken("unknown format");
  if (raw[1] != static_cast<char>(kind)) return BadToken("it belongs to another list");
  return raw.substr(2);
}

}  // namespace fabrique::features
