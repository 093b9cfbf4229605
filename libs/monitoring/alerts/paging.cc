#include "libs/monitoring/alerts/paging.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::monitoring {
namespace {

// Marks our tokens, so that a token of another list or another layout is refused, not misread.
constexpr char kTokenPrefix[] = "a1:";

}  // namespace

absl::StatusOr<int32_t> PageSize(int32_t requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", requested,
                                                   " is negative; 0 = the default (",
                                                   kDefaultPageSize, "), at most ", kMaxPageSize));
  }
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(kTokenPrefix, last_key));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, kTokenPrefix)) {
    return absl::InvalidArgumentError(
        "page_token is not one of this list's; pass the previous page's next_page_token "
        "unchanged, or none for the first page");
  }
  return raw.substr(sizeof(kTokenPrefix) - 1);
}

}  // namespace fabrique::monitoring
