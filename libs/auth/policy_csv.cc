// The CSV reader: one rule a line, fields separated by commas and trimmed, `#` comment lines.

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

absl::Status ParseRule(const std::vector<absl::string_view>& fields, PolicyRules* rules) {
  const absl::string_view kind = fields[0];
  if (kind == "p") {
    if (fields.size() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("a p rule is p, ROLE, PERMISSION, SCOPE (got ", fields.size(), " fields)"));
    }
    ASSIGN_OR_RETURN(std::vector<Grant> grants, MakeGrants(fields[1], fields[2], fields[3]));
    for (Grant& grant : grants) rules->grants.push_back(std::move(grant));
    return absl::OkStatus();
  }
  if (kind == "g") {
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("a g rule is g, SUBJECT, SQUAD:ROLE (got ", fields.size(), " fields)"));
    }
    const std::vector<absl::string_view> squad_role = absl::StrSplit(fields[2], ':');
    if (squad_role.size() != 2 || squad_role[0].empty() || squad_role[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed SQUAD:ROLE '", fields[2],
                       "' (expected SQUAD:ROLE, e.g. risk:data-scientist)"));
    }
    ASSIGN_OR_RETURN(Binding binding, MakeBinding(fields[1], squad_role[0], squad_role[1]));
    rules->bindings.push_back(std::move(binding));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown line kind '", kind, "' (expected p or g)"));
}

}  // namespace

absl::StatusOr<PolicyRules> ParseCsvRules(absl::string_view text) {
  PolicyRules rules;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    for (absl::string_view& field : fields) field = absl::StripAsciiWhitespace(field);
    const size_t grants_before = rules.grants.size();
    const size_t bindings_before = rules.bindings.size();
    const absl::Status status = ParseRule(fields, &rules);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", status.message()));
    }
    const std::string where = absl::StrCat("line ", number);
    for (size_t i = grants_before; i < rules.grants.size(); ++i) rules.grants[i].where = where;
    for (size_t i = bindings_before; i < rules.bindings.size(); ++i) {
      rules.bindings[i].where = where;
    }
  }
  return rules;
}

}  // namespace fabrique::auth
