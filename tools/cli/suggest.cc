#include "tools/cli/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace fabrique::cli {

int EditDistance(absl::string_view a, absl::string_view b) {
  // d[i][j]: distance between the first i characters of a and the first j of b.
  std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      // Two characters typed in the wrong order is one slip, not two.
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> NearestName(absl::string_view typed,
                                       const std::vector<std::string>& names) {
  const std::string word = absl::AsciiStrToLower(typed);
  if (word.empty()) return std::nullopt;
  // The very word typed is known but was refused where it stands: echoing it back would only
  // confuse, so it is never a candidate.
  std::vector<const std::string*> candidates;
  for (const std::string& name : names) {
    if (name != typed) candidates.push_back(&name);
  }
  // A unique prefix ("feat", "prom") is what the user started to type.
  if (word.size() >= 3) {
    std::vector<const std::string*> prefixed;
    for (const std::string* name : candidates) {
      if (absl::StartsWith(*name, word)) prefixed.push_back(name);
    }
    if (prefixed.size() == 1) return *prefixed.front();
  }
  std::optional<std::string> best;
  int best_distance = 0;
  bool tie = false;
  for (const std::string* name : candidates) {
    const int distance = EditDistance(word, *name);
    const int allowed = std::clamp(static_cast<int>(std::max(word.size(), name->size()) / 3), 1, 2);
    if (distance > allowed) continue;
    if (!best.has_value() || distance < best_distance) {
      best = *name;
      best_distance = distance;
      tie = false;
    } else if (distance == best_distance) {
      tie = true;
    }
  }
  if (tie) return std::nullopt;
  return best;
}

std::string DidYouMean(absl::string_view typed, const std::vector<std::string>& names,
                       absl::string_view prefix) {
  const std::optional<std::string> nearest = NearestName(typed, names);
  return nearest.has_value() ? absl::StrCat(" (did you mean '", prefix, *nearest, "'?)") : "";
}

}  // namespace fabrique::cli
