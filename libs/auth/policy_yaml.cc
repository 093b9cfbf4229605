// The YAML reader: `roles` (role -> list of {permission, scope}) and `bindings` (list of
// {subject, squad, role}). yaml-cpp reports through exceptions; they stop here.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace fabrique::auth {
namespace {

absl::Status At(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status AtStatus(absl::string_view path, const absl::Status& status) {
  return At(path, status.message());
}

// Reads the scalar fields `keys` of the map at `path`, refusing missing and unknown keys.
absl::StatusOr<std::vector<std::string>> Fields(const YAML::Node& node, absl::string_view path,
                                                const std::vector<std::string>& keys) {
  const std::string expected = absl::StrCat("{", absl::StrJoin(keys, ", "), "}");
  if (!node.IsMap()) return At(path, absl::StrCat("expected a map ", expected));
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return At(absl::StrCat(path, ".", key),
                absl::StrCat("unknown key (expected ", expected, ")"));
    }
  }
  std::vector<std::string> values;
  for (const std::string& key : keys) {
    const YAML::Node value = node[key];
    if (!value) return At(path, absl::StrCat("missing ", key));
    if (!value.IsScalar()) return At(absl::StrCat(path, ".", key), "expected a string");
    values.push_back(value.Scalar());
  }
  return values;
}

absl::Status ReadRoles(const YAML::Node& roles, PolicyRules* rules) {
  if (!roles.IsMap()) return At("roles", "expected a map of role -> list of permissions");
  for (const auto& role_entry : roles) {
    const std::string role = role_entry.first.Scalar();
    const std::string role_path = absl::StrCat("roles.", role);
    if (!role_entry.second.IsSequence()) {
      return At(role_path, "expected a list of {permission, scope}");
    }
    for (size_t i = 0; i < role_entry.second.size(); ++i) {
      const std::string path = absl::StrCat(role_path, "[", i, "]");
      ASSIGN_OR_RETURN(std::vector<std::string> fields,
                       Fields(role_entry.second[i], path, {"permission", "scope"}));
      absl::StatusOr<std::vector<Grant>> grants = MakeGrants(role, fields[0], fields[1]);
      if (!grants.ok()) return AtStatus(path, grants.status());
      for (Grant& grant : *grants) {
        grant.where = path;
        rules->grants.push_back(std::move(grant));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ReadBindings(const YAML::Node& bindings, PolicyRules* rules) {
  if (!bindings.IsSequence()) return At("bindings", "expected a list of {subject, squad, role}");
  for (size_t i = 0; i < bindings.size(); ++i) {
    const std::string path = absl::StrCat("bindings[", i, "]");
    ASSIGN_OR_RETURN(std::vector<std::string> fields,
                     Fields(bindings[i], path, {"subject", "squad", "role"}));
    absl::StatusOr<Binding> binding = MakeBinding(fields[0], fields[1], fields[2]);
    if (!binding.ok()) return AtStatus(path, binding.status());
    binding->where = path;
    rules->bindings.push_back(*std::move(binding));
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyRules> ReadDocument(const YAML::Node& root) {
  PolicyRules rules;
  if (root.IsNull()) return rules;  // An empty file: a policy that grants nothing.
  if (!root.IsMap()) return At("top level", "expected a map with roles and bindings");
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key == "roles") {
      RETURN_IF_ERROR(ReadRoles(entry.second, &rules));
    } else if (key == "bindings") {
      RETURN_IF_ERROR(ReadBindings(entry.second, &rules));
    } else {
      return At(key, "unknown key (expected roles or bindings)");
    }
  }
  return rules;
}

}  // namespace

absl::StatusOr<PolicyRules> ParseYamlRules(absl::string_view text) {
  try {
    return ReadDocument(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    // yaml-cpp counts lines and columns from 0.
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
}

}  // namespace fabrique::auth
