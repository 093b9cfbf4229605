#include "libs/auth/policy_syntax.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/permissions.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

// A role or squad name. '*', ':' and braces are excluded so that names never collide with the
// wildcard, the SQUAD:ROLE separator or placeholders.
bool IsName(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// Checks the placeholders of a subject pattern; sets which of the two it uses.
absl::Status CheckPlaceholders(absl::string_view subject, bool* has_squad, bool* has_role) {
  size_t pos = 0;
  bool previous_was_placeholder = false;
  while (pos < subject.size()) {
    const size_t open = subject.find_first_of("{}", pos);
    if (open == absl::string_view::npos) break;
    if (subject[open] == '}') {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed placeholder in '", subject, "' (a '}' without '{')"));
    }
    const size_t close = subject.find('}', open);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed placeholder in '", subject, "' (a '{' without '}')"));
    }
    const absl::string_view placeholder = subject.substr(open, close - open + 1);
    if (placeholder != kSquadPlaceholder && placeholder != kRolePlaceholder) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown placeholder '", placeholder, "' (only {squad} and {role} exist)"));
    }
    // Two placeholders side by side could split their text anywhere.
    if (previous_was_placeholder && open == pos) {
      return absl::InvalidArgumentError(
          absl::StrCat("placeholders must be separated by text in '", subject, "'"));
    }
    (placeholder == kSquadPlaceholder ? *has_squad : *has_role) = true;
    previous_was_placeholder = true;
    pos = close + 1;
  }
  return absl::OkStatus();
}

absl::Status CheckSubject(absl::string_view subject, bool* has_squad, bool* has_role) {
  const size_t colon = subject.find(':');
  const absl::string_view kind = subject.substr(0, colon);
  const bool known_kind = kind == "user" || kind == "group" || kind == "service";
  const bool blank = absl::StrContains(subject, ' ') || absl::StrContains(subject, '\t');
  if (colon == absl::string_view::npos || !known_kind || colon + 1 == subject.size() || blank) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed subject '", subject, "' (expected user:NAME, group:NAME or service:NAME)"));
  }
  return CheckPlaceholders(subject.substr(colon + 1), has_squad, has_role);
}

// Matches `text` against `pattern`, binding {squad} and {role} to plain names; backtracks over
// where each placeholder's text ends. No allocation: Decide runs it on every call.
bool Match(absl::string_view pattern, absl::string_view text, absl::string_view* squad,
           absl::string_view* role) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] != '{') {
    const absl::string_view literal = pattern.substr(0, pattern.find('{'));
    if (!absl::StartsWith(text, literal)) return false;
    return Match(pattern.substr(literal.size()), text.substr(literal.size()), squad, role);
  }
  const size_t close = pattern.find('}');
  absl::string_view* slot = pattern.substr(0, close + 1) == kSquadPlaceholder ? squad : role;
  const absl::string_view rest = pattern.substr(close + 1);
  const absl::string_view before = *slot;
  for (size_t length = 1; length <= text.size() && IsNameChar(text[length - 1]); ++length) {
    const absl::string_view value = text.substr(0, length);
    if (!before.empty() && before != value) continue;  // The same placeholder twice.
    *slot = value;
    if (Match(rest, text.substr(length), squad, role)) return true;
  }
  *slot = before;
  return false;
}

}  // namespace

absl::StatusOr<PolicyFormat> PolicyFormatForPath(absl::string_view path) {
  if (absl::EndsWith(path, ".csv")) return PolicyFormat::kCsv;
  if (absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml")) return PolicyFormat::kYaml;
  return absl::InvalidArgumentError(absl::StrCat(
      "policy file '", path, "' must end in .csv, .yaml or .yml (the name says its format)"));
}

absl::StatusOr<std::vector<std::string>> ExpandPermission(absl::string_view text) {
  std::vector<std::string> names;
  if (text == "*" || absl::EndsWith(text, ".*")) {
    const absl::string_view prefix = text.substr(0, text.size() - 1);  // "" or "models."
    for (const Permission& permission : AllPermissions()) {
      if (absl::StartsWith(permission.name, prefix)) names.emplace_back(permission.name);
    }
  } else if (FindPermission(text) != nullptr) {
    names.emplace_back(text);
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown permission '", text, "'"));
  }
  return names;
}

absl::StatusOr<Scope> ParseScope(absl::string_view text) {
  if (text == "squad") return Scope::kSquad;
  if (text == kAllSquads) return Scope::kAllSquads;
  return absl::InvalidArgumentError(absl::StrCat("bad scope '", text, "' (expected squad or *)"));
}

absl::StatusOr<std::vector<Grant>> MakeGrants(absl::string_view role, absl::string_view permission,
                                              absl::string_view scope) {
  if (!IsName(role)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad role '", role, "' (a role is letters, digits, '-', '_' and '.')"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> permissions, ExpandPermission(permission));
  ASSIGN_OR_RETURN(Scope parsed_scope, ParseScope(scope));
  const std::string rule = absl::StrCat("p, ", role, ", ", permission, ", ", scope);
  std::vector<Grant> grants;
  grants.reserve(permissions.size());
  for (std::string& name : permissions) {
    grants.push_back(Grant{std::string(role), std::move(name), parsed_scope, rule, ""});
  }
  return grants;
}

absl::StatusOr<Binding> MakeBinding(absl::string_view subject, absl::string_view squad,
                                    absl::string_view role) {
  bool subject_has_squad = false;
  bool subject_has_role = false;
  RETURN_IF_ERROR(CheckSubject(subject, &subject_has_squad, &subject_has_role));
  const bool pattern = subject_has_squad || subject_has_role;
  for (absl::string_view part : {squad, role}) {
    if (absl::StartsWith(part, "{") && part != kSquadPlaceholder && part != kRolePlaceholder) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown placeholder '", part, "' (only {squad} and {role} exist)"));
    }
  }
  if (squad != kAllSquads && squad != kSquadPlaceholder && !IsName(squad)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad squad '", squad, "' (expected a squad name, * or {squad})"));
  }
  if (role != kRolePlaceholder && !IsName(role)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad role '", role, "' (expected a role name or {role})"));
  }
  absl::string_view unmatched;
  if (squad == kSquadPlaceholder && !subject_has_squad) unmatched = squad;
  if (role == kRolePlaceholder && !subject_has_role) unmatched = role;
  if (!unmatched.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("placeholder '", unmatched,
                     "' has nothing to match: it is not in the subject '", subject, "'"));
  }
  Binding binding;
  binding.subject = std::string(subject);
  binding.squad = std::string(squad);
  binding.role = std::string(role);
  binding.pattern = pattern;
  binding.rule = absl::StrCat("g, ", subject, ", ", squad, ":", role);
  return binding;
}

std::optional<PatternMatch> MatchPattern(const Binding& binding, absl::string_view subject) {
  absl::string_view squad;
  absl::string_view role;
  if (!Match(binding.subject, subject, &squad, &role)) return std::nullopt;
  PatternMatch match;
  match.squad = binding.squad == kSquadPlaceholder ? std::string(squad) : binding.squad;
  match.role = binding.role == kRolePlaceholder ? std::string(role) : binding.role;
  return match;
}

}  // namespace fabrique::auth
