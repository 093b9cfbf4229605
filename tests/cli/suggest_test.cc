// "Did you mean ...?" for mistyped commands and subcommands: the edit distance, and when a name
// is near enough to suggest.

#include "tools/cli/suggest.h"

#include "catch2/catch.hpp"

namespace fabrique::cli {
namespace {

const std::vector<std::string> kCommands = {"up",       "features", "models",  "train",
                                            "registry", "status",   "version", "help"};
const std::vector<std::string> kModels = {"create", "list",    "show",      "versions",
                                          "upload", "promote", "promotion", "approve"};

TEST_CASE("EditDistance counts insertions, deletions, substitutions and swaps") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("features", "features") == 0);
  CHECK(EditDistance("featres", "features") == 1);    // One letter left out.
  CHECK(EditDistance("featuress", "features") == 1);  // One too many.
  CHECK(EditDistance("feafures", "features") == 1);   // One wrong.
  CHECK(EditDistance("fetaures", "features") == 1);   // Two swapped: one slip.
  CHECK(EditDistance("kitten", "sitting") == 3);
}

TEST_CASE("NearestName suggests a plausible typo, a unique prefix, or nothing") {
  CHECK(NearestName("featres", kCommands) == "features");
  CHECK(NearestName("FEATURES", kCommands) == "features");
  CHECK(NearestName("modles", kCommands) == "models");
  CHECK(NearestName("lst", kModels) == "list");
  CHECK(NearestName("feat", kCommands) == "features");  // A unique prefix.
  // "promot" starts two names; the nearer by edit distance wins.
  CHECK(NearestName("promot", kModels) == "promote");
  // Too far from anything, or empty: no suggestion rather than a wild one.
  CHECK_FALSE(NearestName("launch", kCommands).has_value());
  CHECK_FALSE(NearestName("xyz", kModels).has_value());
  CHECK_FALSE(NearestName("", kCommands).has_value());
  // Two names equally near: no guess.
  CHECK_FALSE(NearestName("cax", {"cat", "car"}).has_value());
}

TEST_CASE("NearestName never suggests the very word typed") {
  // A known name refused where it was typed: echoing it back would only confuse.
  CHECK_FALSE(NearestName("help", kCommands).has_value());
  CHECK_FALSE(NearestName("show", kModels).has_value());  // Not even as its own unique prefix.
  CHECK(DidYouMean("help", kCommands).empty());
  // Another near name is still a fair suggestion; so is the name spelt in another case, since
  // names are matched exactly.
  CHECK(NearestName("list", {"list", "lists"}) == "lists");
  CHECK(NearestName("HELP", kCommands) == "help");
}

TEST_CASE("DidYouMean phrases the suggestion, with a prefix for flags") {
  CHECK(DidYouMean("featres", kCommands) == " (did you mean 'features'?)");
  CHECK(DidYouMean("dta_dir", {"data_dir", "target"}, "--") == " (did you mean '--data_dir'?)");
  CHECK(DidYouMean("launch", kCommands).empty());
}

}  // namespace
}  // namespace fabrique::cli
