#ifndef FABRIQUE_LIBS_CORE_FLAGS_H_
#define FABRIQUE_LIBS_CORE_FLAGS_H_

// A small command-line flag parser for Fabrique's binaries and CLI. Each program declares its
// flags with their defaults in one place, so --help always lists every flag with its default, and
// defaults can differ per binary (each service has its own port). Accepted forms: --name=value,
// --name value, --bool_flag, --nobool_flag, --bool_flag=true|false. A bare "--" ends the flags.
// Dashes inside a name read as underscores (--dry-run is --dry_run), so either spelling works.
//
//   int port = 7101;
//   FlagSet flags("fabrique-features", "Serves the feature store.");
//   flags.Add("port", &port, "gRPC port; 0 picks a free one");
//   ASSIGN_OR_RETURN(ParsedArgs args, flags.Parse(argc, argv));
//   if (args.help) { std::cout << flags.Usage(); return 0; }

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fabrique::core {

struct ParsedArgs {
  bool help = false;                    // --help or -h was given.
  std::vector<std::string> positional;  // Arguments that are not flags, in order.
};

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);

  // Declares a flag bound to `target`; the target's current value is the default shown in help.
  void Add(const std::string& name, std::string* target, const std::string& help);
  void Add(const std::string& name, int* target, const std::string& help);
  void Add(const std::string& name, int64_t* target, const std::string& help);
  void Add(const std::string& name, double* target, const std::string& help);
  void Add(const std::string& name, bool* target, const std::string& help);
  // Durations are written as 30s, 500ms, 2m, 1h30m (absl::ParseDuration).
  void Add(const std::string& name, absl::Duration* target, const std::string& help);
  // A repeatable flag: each occurrence appends its value (--tag a=1 --tag b=2). Values given on
  // the command line replace the target's initial contents, which are the default shown.
  void Add(const std::string& name, std::vector<std::string>* target, const std::string& help);

  // Parses argv[first..argc). Unknown flags and bad values are INVALID_ARGUMENT with a message
  // that names the flag and what it expects.
  absl::StatusOr<ParsedArgs> Parse(int argc, const char* const* argv, int first = 1);
  absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args);

  // Returns the help text: usage line, summary, then every flag with its type, default and help.
  std::string Usage() const;

  // The program name given at construction, e.g. "fabrique models show".
  const std::string& program() const { return program_; }
  // Text shown after "Usage: <program> " (default "[flags]").
  void set_usage_args(std::string args) { usage_args_ = std::move(args); }
  // Free text appended to the help (examples, notes).
  void set_epilog(std::string epilog) { epilog_ = std::move(epilog); }

 private:
  struct Flag {
    std::string name;
    std::string type;
    std::string default_value;
    std::string help;
    bool is_bool = false;
    std::function<bool(const std::string&)> set;  // Returns false if the value does not parse.
  };
  void AddFlag(Flag flag);
  const Flag* Find(const std::string& name) const;

  std::string program_;
  std::string summary_;
  std::string usage_args_ = "[flags]";
  std::string epilog_;
  std::vector<Flag> flags_;
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_FLAGS_H_
