#include "libs/tower/portfolio/portfolio_paging.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/tower/paging.h"

namespace fabrique::tower {
namespace {

// Marks the portfolio's tokens, so that another list's token is refused rather than misread.
constexpr absl::string_view kRankMark = "rk1:";

}  // namespace

bool RanksBefore(const RankKey& a, const RankKey& b) {
  if (a.wsjf != b.wsjf) return a.wsjf > b.wsjf;
  if (a.roi != b.roi) return a.roi > b.roi;
  return a.id < b.id;
}

std::string EncodeRankToken(const RankKey& last) {
  // The doubles' bytes, so the next page resumes after exactly this key.
  char scores[2 * sizeof(double)];
  std::memcpy(scores, &last.wsjf, sizeof(double));
  std::memcpy(scores + sizeof(double), &last.roi, sizeof(double));
  return EncodePageToken(kRankMark,
                         absl::StrCat(absl::string_view(scores, sizeof(scores)), last.id));
}

absl::StatusOr<std::optional<RankKey>> DecodeRankToken(absl::string_view token) {
  if (token.empty()) return std::optional<RankKey>();
  absl::StatusOr<std::string> raw = DecodePageToken(kRankMark, token, "portfolio");
  if (!raw.ok()) return raw.status();
  if (raw->size() < 2 * sizeof(double)) {
    return absl::InvalidArgumentError(
        "page_token is not one of the portfolio's; pass the previous page's next_page_token "
        "unchanged, or none for the first page");
  }
  RankKey key;
  std::memcpy(&key.wsjf, raw->data(), sizeof(double));
  std::memcpy(&key.roi, raw->data() + sizeof(double), sizeof(double));
  key.id = raw->substr(2 * sizeof(double));
  return std::optional<RankKey>(std::move(key));
}

}  // namespace fabrique::tower
