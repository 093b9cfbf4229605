#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_PAGING_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_PAGING_H_

// Page tokens of the ranked portfolio (by rank); the use-case list pages by id with the tower's
// tokens (libs/tower/paging.h, mark kUseCaseListMark).
//
// A portfolio token carries the rank key (WSJF, ROI, id) of the last entry served, not an
// offset: the next page starts after that key in the ranking recomputed at that time, so a use
// case added or re-scored between two pages neither repeats an entry nor hides one that was
// still to come, and ranks stay numbered over the whole filtered portfolio.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::tower {

// Marks the use-case list's page tokens (libs/tower/paging.h).
inline constexpr absl::string_view kUseCaseListMark = "uc1:";

// Where a use case stands in the ranking: higher WSJF first, then higher ROI, then id.
struct RankKey {
  double wsjf = 0;
  double roi = 0;
  std::string id;
};
bool RanksBefore(const RankKey& a, const RankKey& b);

std::string EncodeRankToken(const RankKey& last);
// nullopt for no token; INVALID_ARGUMENT for a token not of the portfolio.
absl::StatusOr<std::optional<RankKey>> DecodeRankToken(absl::string_view token);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_PAGING_H_
