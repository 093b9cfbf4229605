#include "libs/core/flags.h"

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace fabrique::core {

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::AddFlag(Flag flag) { flags_.push_back(std::move(flag)); }

void FlagSet::Add(const std::string& name, std::string* target, const std::string& help) {
  AddFlag({name, "string", absl::StrCat("\"", *target, "\""), help, false,
           [target](const std::string& v) {
             *target = v;
             return true;
           }});
}

void FlagSet::Add(const std::string& name, int* target, const std::string& help) {
  AddFlag({name, "int", absl::StrCat(*target), help, false,
           [target](const std::string& v) { return absl::SimpleAtoi(v, target); }});
}

void FlagSet::Add(const std::string& name, int64_t* target, const std::string& help) {
  AddFlag({name, "int64", absl::StrCat(*target), help, false,
           [target](const std::string& v) { return absl::SimpleAtoi(v, target); }});
}

void FlagSet::Add(const std::string& name, double* target, const std::string& help) {
  AddFlag({name, "double", absl::StrCat(*target), help, false,
           [target](const std::string& v) { return absl::SimpleAtod(v, target); }});
}

void FlagSet::Add(const std::string& name, bool* target, const std::string& help) {
  AddFlag({name, "bool", *target ? "true" : "false", help, true,
           [target](const std::string& v) { return absl::SimpleAtob(v, target); }});
}

void FlagSet::Add(const std::string& name, absl::Duration* target, const std::string& help) {
  AddFlag({name, "duration", absl::FormatDuration(*target), help, false,
           [target](const std::string& v) { return absl::ParseDuration(v, target); }});
}

void FlagSet::Add(const std::string& name, std::vector<std::string>* target,
                  const std::string& help) {
  // The first value given replaces the defaults; later ones append.
  auto given = std::make_shared<bool>(false);
  AddFlag({name, "string, repeatable",
           target->empty() ? "none" : absl::StrCat("\"", absl::StrJoin(*target, "\" \""), "\""),
           help, false, [target, given](const std::string& v) {
             if (!*given) target->clear();
             *given = true;
             target->push_back(v);
             return true;
           }});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::StatusOr<ParsedArgs> FlagSet::Parse(int argc, const char* const* argv, int first) {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

absl::StatusOr<ParsedArgs> FlagSet::Parse(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      parsed.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg.rfind('-', 1) == 1 ? 2 : 1);
    std::string name = body;
    std::string value;
    bool has_value = false;
    if (const size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    std::replace(name.begin(), name.end(), '-', '_');
    const Flag* flag = Find(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      const Flag* negated = Find(name.substr(absl::StartsWith(name, "no_") ? 3 : 2));
      if (negated != nullptr && negated->is_bool) {
        negated->set("false");
        continue;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " for ", program_,
                                                     "; run '", program_, " --help'"));
    }
    if (!has_value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value (", flag->type, ")"));
      }
    }
    if (!flag->set(value)) {
      std::string hint = flag->type == "duration" ? " such as 30s, 500ms or 2m" : "";
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, "=", value, ": expected a ", flag->type, hint));
    }
  }
  return parsed;
}

std::string FlagSet::Usage() const {
  std::string out =
      absl::StrCat("Usage: ", program_, " ", usage_args_, "\n\n", summary_, "\n\nFlags:\n");
  std::vector<const Flag*> sorted;
  for (const Flag& flag : flags_) sorted.push_back(&flag);
  std::sort(sorted.begin(), sorted.end(),
            [](const Flag* a, const Flag* b) { return a->name < b->name; });
  for (const Flag* flag : sorted) {
    absl::StrAppend(&out, absl::StrFormat("  --%s (%s; default: %s)\n      %s\n", flag->name,
                                          flag->type, flag->default_value, flag->help));
  }
  absl::StrAppend(&out, "  --help\n      Prints this help and exits.\n");
  if (!epilog_.empty()) absl::StrAppend(&out, "\n", epilog_, "\n");
  return out;
}

}  // namespace fabrique::core
