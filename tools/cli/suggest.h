#ifndef FABRIQUE_TOOLS_CLI_SUGGEST_H_
#define FABRIQUE_TOOLS_CLI_SUGGEST_H_

// "Did you mean ...?" for a mistyped command or subcommand: the known name nearest to what was
// typed, by edit distance, when it is near enough to be a plausible typo.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fabrique::cli {

// The number of single-character insertions, deletions, substitutions and swaps of two adjacent
// characters that turn `a` into `b` (optimal string alignment distance).
int EditDistance(absl::string_view a, absl::string_view b);

// The name in `names` nearest to `typed`, compared without case: one that `typed` is a prefix of
// (at least 3 characters, and only one such name), or else the one at the smallest edit distance
// if that is at most a third of the longer word (at least 1, at most 2). Nothing when no name is
// that near, or when two are equally near. Never `typed` itself: a known name refused where it
// was typed gets no suggestion rather than its own echo.
std::optional<std::string> NearestName(absl::string_view typed,
                                       const std::vector<std::string>& names);

// " (did you mean 'features'?)" for NearestName's answer, or "" when there is none; `prefix`
// goes before the name ("--" for a flag).
std::string DidYouMean(absl::string_view typed, const std::vector<std::string>& names,
                       absl::string_view prefix = "");

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_SUGGEST_H_
