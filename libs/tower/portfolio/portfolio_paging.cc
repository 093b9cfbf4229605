#include "libs/tower/portfolio/portfolio_paging.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::tower {
namespace {

// Mark the tokens of each list, so a token of one is refused by the other, not misread.
constexpr absl::string_view kListMark = "uc1:";
constexpr absl::string_view kRankMark = "rk1:";

absl::Status NotOurs(absl::string_view list) {
  return absl::InvalidArgumentError(absl::StrCat(
      "page_token is not one of the ", list,
      "'s; pass the previous page's next_page_token unchanged, or none for the first page"));
}

// The token's payload after `mark`, or nullopt when it is not one of ours.
std::optional<std::string> Unwrap(absl::string_view token, absl::string_view mark) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, mark)) {
    return std::nullopt;
  }
  return raw.substr(mark.size());
}

}  // namespace

absl::StatusOr<int32_t> PortfolioPageSize(int32_t requested) {
  if (requested < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", requested,
                                                   " is negative; 0 = the default (",
                                                   kDefaultPageSize, "), at most ", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}

bool RanksBefore(const RankKey& a, const RankKey& b) {
  if (a.wsjf != b.wsjf) return a.wsjf > b.wsjf;
  if (a.roi != b.roi) return a.roi > b.roi;
  return a.id < b.id;
}

std::string EncodeListToken(absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kListMark, last_id));
}

absl::StatusOr<std::string> DecodeListToken(absl::string_view token) {
  if (token.empty()) return std::string();
  std::optional<std::string> id = Unwrap(token, kListMark);
  if (!id.has_value()) return NotOurs("use-case list");
  return *id;
}

std::string EncodeRankToken(const RankKey& last) {
  // The doubles' bytes, so the next page resumes after exactly this key.
  char scores[2 * sizeof(double)];
  std::memcpy(scores, &last.wsjf, sizeof(double));
  std::memcpy(scores + sizeof(double), &last.roi, sizeof(double));
  return absl::WebSafeBase64Escape(
      absl::StrCat(kRankMark, absl::string_view(scores, sizeof(scores)), last.id));
}

absl::StatusOr<std::optional<RankKey>> DecodeRankToken(absl::string_view token) {
  if (token.empty()) return std::optional<RankKey>();
  std::optional<std::string> raw = Unwrap(token, kRankMark);
  if (!raw.has_value() || raw->size() < 2 * sizeof(double)) return NotOurs("portfolio");
  RankKey key;
  std::memcpy(&key.wsjf, raw->data(), sizeof(double));
  std::memcpy(&key.roi, raw->data() + sizeof(double), sizeof(double));
  key.id = raw->substr(2 * sizeof(double));
  return std::optional<RankKey>(std::move(key));
}

}  // namespace fabrique::tower
