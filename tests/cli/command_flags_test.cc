// How every `fabrique` command answers bad usage: one line with the reason and where the help is,
// exit 2, and a suggestion for a mistyped subcommand or flag; help for `help SUBCOMMAND`.

#include "tools/cli/command_flags.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace fabrique::cli {
namespace {

// Captures what std::cout and std::cerr receive while it lives.
class CapturedOutput {
 public:
  CapturedOutput()
      : out_(std::cout.rdbuf(out_text_.rdbuf())), err_(std::cerr.rdbuf(err_text_.rdbuf())) {}
  ~CapturedOutput() {
    std::cout.rdbuf(out_);
    std::cerr.rdbuf(err_);
  }
  std::string out() const { return out_text_.str(); }
  std::string err() const { return err_text_.str(); }

 private:
  std::ostringstream out_text_;
  std::ostringstream err_text_;
  std::streambuf* out_;
  std::streambuf* err_;
};

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST_CASE("a usage error is its reason and a pointer to --help, exit 2") {
  CapturedOutput captured;
  CHECK(UsageError("fabrique models show", "expected one NAME") == kExitUsage);
  CHECK(captured.err() ==
        "fabrique models show: expected one NAME\nsee 'fabrique models show --help'\n");
  CHECK(captured.out().empty());
}

TEST_CASE("a file that cannot be used is a usage error without the help pointer") {
  CapturedOutput captured;
  CHECK(BadInput("fabrique features apply",
                 absl::InvalidArgumentError("cannot read x.json: No such file or directory")) ==
        kExitUsage);
  CHECK(captured.err() ==
        "fabrique features apply: cannot read x.json: No such file or directory\n");
}

TEST_CASE("flag errors name the flag, suggest the nearest, and skip the 40 lines of help") {
  std::string data_dir;
  absl::Duration timeout = absl::Seconds(1);
  core::FlagSet flags("fabrique features list", "Lists feature groups.");
  flags.Add("data_dir", &data_dir, "Folder");
  flags.Add("timeout", &timeout, "Deadline");
  CHECK(FlagNames(flags) == std::vector<std::string>{"data_dir", "timeout", "help"});

  core::ParsedArgs parsed;
  {
    CapturedOutput captured;
    CHECK(ParseCommandFlags(flags, {"--dta_dir", "x"}, &parsed) == kExitUsage);
    CHECK(captured.err() ==
          "fabrique features list: unknown flag --dta_dir (did you mean '--data_dir'?)\n"
          "see 'fabrique features list --help'\n");
  }
  {
    CapturedOutput captured;
    CHECK(ParseCommandFlags(flags, {"--timeout=soon"}, &parsed) == kExitUsage);
    CHECK(absl::StartsWith(captured.err(), "fabrique features list: flag --timeout=soon:"));
    CHECK(CountLines(captured.err()) == 2);
  }
  {
    CapturedOutput captured;
    CHECK(ParseCommandArgs(flags, {"extra"}, 0, 0, "", &parsed) == kExitUsage);
    CHECK(absl::StrContains(captured.err(), "takes no arguments (got 'extra')"));
  }
  {
    CapturedOutput captured;
    CHECK(ParseCommandArgs(flags, {}, 1, 1, "one FILE", &parsed) == kExitUsage);
    CHECK(absl::StrContains(captured.err(), "expected one FILE, got 0 arguments"));
  }
  {
    CapturedOutput captured;
    CHECK(ParseCommandFlags(flags, {"--help"}, &parsed) == 0);
    CHECK(absl::StartsWith(captured.out(), "Usage: fabrique features list"));
  }
  CHECK_FALSE(
      ParseCommandArgs(flags, {"--data_dir", "d", "file"}, 1, 1, "one FILE", &parsed).has_value());
  CHECK(data_dir == "d");
  CHECK(parsed.positional == std::vector<std::string>{"file"});
}

TEST_CASE("subcommands: a typo suggests the nearest, none lists them, help SUB shows its help") {
  std::vector<std::string> ran;
  auto record = [&ran](const std::string& name) {
    return [&ran, name](const std::vector<std::string>& args) {
      ran.push_back(name);
      for (const std::string& a : args) ran.push_back(a);
      return 0;
    };
  };
  const std::vector<Subcommand> table = {{"apply", "apply FILE", "Apply", record("apply")},
                                         {"ingest", "ingest FILE", "Ingest", record("ingest")},
                                         {"list", "list", "List", record("list")}};
  {
    CapturedOutput captured;
    CHECK(RunSubcommand("fabrique features", "Features.", table, {"ingset"}) == kExitUsage);
    CHECK(captured.err() ==
          "fabrique features: unknown subcommand 'ingset' (did you mean 'ingest'?)\n"
          "see 'fabrique features --help'\n");
  }
  {
    CapturedOutput captured;
    CHECK(RunSubcommand("fabrique features", "Features.", table, {}) == kExitUsage);
    CHECK(absl::StartsWith(captured.err(),
                           "fabrique features: expected a subcommand: apply, ingest, list\n"));
  }
  {
    CapturedOutput captured;
    CHECK(RunSubcommand("fabrique features", "Features.", table, {"--help"}) == 0);
    CHECK(absl::StrContains(captured.out(), "  ingest FILE  Ingest"));
  }
  CHECK(RunSubcommand("fabrique features", "Features.", table, {"help", "ingest"}) == 0);
  CHECK(RunSubcommand("fabrique features", "Features.", table, {"list", "--entity", "e"}) == 0);
  CHECK(ran == std::vector<std::string>{"ingest", "--help", "list", "--entity", "e"});
}

}  // namespace
}  // namespace fabrique::cli
