#include "libs/tower/paging.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::tower {

absl::StatusOr<int32_t> PageSize(int32_t requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", requested,
                                                   " is negative; 0 = the default (",
                                                   kDefaultPageSize, "), at most ", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view mark, absl::string_view last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(mark, last_key));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view mark, absl::string_view token,
                                            absl::string_view list) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, mark)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token is not one of the ", list,
        "'s; pass the previous page's next_page_token unchanged, or none for the first page"));
  }
  return raw.substr(mark.size());
}

}  // namespace fabrique::tower
