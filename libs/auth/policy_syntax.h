#ifndef FABRIQUE_LIBS_AUTH_POLICY_SYNTAX_H_
#define FABRIQUE_LIBS_AUTH_POLICY_SYNTAX_H_

// The policy's rules and the checks both file formats share.
//
// CSV (`.csv`), one rule a line, `#` starts a comment line:
//   p, ROLE, PERMISSION, SCOPE     SCOPE "squad": in the squads where the role is held;
//                                  SCOPE "*": in every squad. PERMISSION is a catalog name,
//                                  "AREA.*" (every permission under AREA) or "*" (all of them).
//   g, SUBJECT, SQUAD:ROLE         SUBJECT user:NAME, group:NAME or service:NAME; SQUAD "*" = the
//                                  role is held in every squad.
//   g, group:{squad}:{role}, {squad}:{role}
//                                  a pattern binding: a group named like the subject grants the
//                                  role it names in the squad it names. Only {squad} and {role}
//                                  exist; what they match is a plain name (never "*").
//                                  Groups may be made by the people they bind, so a pattern
//                                  grants no privileged role: never a service role (one the
//                                  policy binds to any service: subject), and its {role} never
//                                  stands for a role with a "*"-scoped grant (one that reads
//                                  across squads). A group "x:trainer" or "x:sre" grants nothing
//                                  through {role}. To grant a "*"-scoped role through groups,
//                                  name it in the pattern (g, group:{squad}:sre, {squad}:sre);
//                                  a service role only a plain binding grants.
// YAML (`.yaml`, `.yml`):
//   roles:
//     data-scientist:
//       - {permission: models.read, scope: squad}
//       - {permission: runs.read, scope: "*"}   (quoted: a bare * starts a YAML alias)
//   bindings:
//     - {subject: "group:risk-ds", squad: risk, role: data-scientist}
//     - {subject: "group:{squad}:{role}", squad: "{squad}", role: "{role}"}

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::auth {

// The squad that stands for every squad, in bindings, scopes and Decide.
inline constexpr absl::string_view kAllSquads = "*";
// The placeholders of pattern bindings.
inline constexpr absl::string_view kSquadPlaceholder = "{squad}";
inline constexpr absl::string_view kRolePlaceholder = "{role}";

enum class PolicyFormat { kCsv, kYaml };

// The format a policy file's name says: ".csv", or ".yaml" / ".yml". INVALID_ARGUMENT otherwise.
absl::StatusOr<PolicyFormat> PolicyFormatForPath(absl::string_view path);

enum class Scope {
  kSquad,      // In the squads where the role is held.
  kAllSquads,  // In every squad, wherever the role is held.
};

// A role's permission: one `p` rule (one per permission when the rule has a wildcard).
struct Grant {
  std::string role;
  std::string permission;  // A catalog name; wildcards are expanded at parse.
  Scope scope = Scope::kSquad;
  std::string rule;   // The rule as CSV, e.g. "p, data-scientist, models.read, squad".
  std::string where;  // Where it was written: "line 3" or "roles.data-scientist[0]".
};

// A subject's role in a squad: one `g` rule.
struct Binding {
  std::string subject;  // "group:risk-ds", or a pattern such as "group:{squad}:{role}".
  std::string squad;    // A squad, "*", or "{squad}" in a pattern.
  std::string role;     // A role, or "{role}" in a pattern.
  bool pattern = false;
  std::string rule;   // The rule as CSV, e.g. "g, group:risk-ds, risk:data-scientist".
  std::string where;  // "line 9" or "bindings[0]".
};

// Checks that build rules. Their errors are INVALID_ARGUMENT and say what is wrong without
// saying where; the parsers put the line or path in front.

// The permissions PERMISSION names (a name, "AREA.*" or "*"): "unknown permission 'x'".
absl::StatusOr<std::vector<std::string>> ExpandPermission(absl::string_view text);
// "squad" or "*": "bad scope 'x' (expected squad or *)".
absl::StatusOr<Scope> ParseScope(absl::string_view text);
// Builds a `p` rule's grants, one per permission it names, with `rule` set; `where` is left for
// the caller. A role is a name: letters, digits, '-', '_' and '.'.
absl::StatusOr<std::vector<Grant>> MakeGrants(absl::string_view role, absl::string_view permission,
                                              absl::string_view scope);
// Builds a `g` rule from its parts (checking the subject, the squad, the role and any
// placeholders), with `rule` set; `where` is left for the caller.
absl::StatusOr<Binding> MakeBinding(absl::string_view subject, absl::string_view squad,
                                    absl::string_view role);

// A whole file's rules, in file order, each with its `where`.
struct PolicyRules {
  std::vector<Grant> grants;
  std::vector<Binding> bindings;
};
// The two readers. Errors are INVALID_ARGUMENT with the line ("line 7: ...") or the path
// ("bindings[2]: ...") in front.
absl::StatusOr<PolicyRules> ParseCsvRules(absl::string_view text);
absl::StatusOr<PolicyRules> ParseYamlRules(absl::string_view text);

// What a pattern binding's placeholders matched in a concrete subject.
struct PatternMatch {
  std::string squad;
  std::string role;
};
// Matches `subject` ("group:risk:data-scientist") against a pattern binding; nullopt when it does
// not match. The binding's squad and role are resolved.
std::optional<PatternMatch> MatchPattern(const Binding& binding, absl::string_view subject);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_POLICY_SYNTAX_H_
