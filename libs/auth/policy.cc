#include "libs/auth/policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

constexpr absl::string_view kGroupPrefix = "group:";
constexpr absl::string_view kServicePrefix = "service:";

void SortUnique(std::vector<std::string>* names) {
  std::sort(names->begin(), names->end());
  names->erase(std::unique(names->begin(), names->end()), names->end());
}

std::string InSquad(absl::string_view squad) {
  return squad == kAllSquads ? "in every squad" : absl::StrCat("in squad ", squad);
}

}  // namespace

absl::StatusOr<Policy> Policy::Parse(absl::string_view text, PolicyFormat format) {
  ASSIGN_OR_RETURN(PolicyRules rules,
                   format == PolicyFormat::kCsv ? ParseCsvRules(text) : ParseYamlRules(text));
  return FromRules(std::move(rules.grants), std::move(rules.bindings));
}

Policy Policy::FromRules(std::vector<Grant> grants, std::vector<Binding> bindings) {
  auto data = std::make_shared<Data>();
  data->grants = std::move(grants);
  data->bindings = std::move(bindings);
  for (size_t i = 0; i < data->grants.size(); ++i) {
    const Grant& grant = data->grants[i];
    if (grant.scope == Scope::kAllSquads) data->everywhere_roles.insert(grant.role);
    auto [it, inserted] = data->grants_by_role[grant.role].try_emplace(grant.permission, i);
    // Keep the broader grant, so a decision reports the rule that matters.
    if (!inserted && grant.scope == Scope::kAllSquads &&
        data->grants[it->second].scope == Scope::kSquad) {
      it->second = i;
    }
  }
  for (size_t i = 0; i < data->bindings.size(); ++i) {
    const Binding& binding = data->bindings[i];
    if (binding.pattern) {
      data->pattern_bindings.push_back(i);
    } else {
      data->bindings_by_subject[binding.subject].push_back(i);
      if (absl::StartsWith(binding.subject, kServicePrefix)) {
        data->service_roles.insert(binding.role);
      }
    }
  }
  return Policy(std::move(data));
}

std::vector<Policy::Held> Policy::HeldBy(const Subject& subject) const {
  std::vector<Held> held;
  auto add = [&](absl::string_view name) {
    auto it = data_->bindings_by_subject.find(name);
    if (it != data_->bindings_by_subject.end()) {
      for (size_t index : it->second) {
        const Binding& binding = data_->bindings[index];
        held.push_back(Held{binding.role, binding.squad, &binding});
      }
    }
    for (size_t index : data_->pattern_bindings) {
      const Binding& binding = data_->bindings[index];
      std::optional<PatternMatch> match = MatchPattern(binding, name);
      if (match && PatternGrants(binding, match->role)) {
        held.push_back(Held{std::move(match->role), std::move(match->squad), &binding});
      }
    }
  };
  add(subject.name);
  std::string group_subject(kGroupPrefix);
  for (const std::string& group : subject.groups) {
    group_subject.resize(kGroupPrefix.size());
    group_subject.append(group);
    add(group_subject);
  }
  return held;
}

std::vector<std::pair<std::string, std::string>> Policy::RolesHeld(const Subject& subject) const {
  std::vector<std::pair<std::string, std::string>> roles;
  for (Held& h : HeldBy(subject)) roles.emplace_back(std::move(h.squad), std::move(h.role));
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

bool Policy::PatternGrants(const Binding& binding, absl::string_view role) const {
  // A group is a name anyone able to make groups can choose: were "x:trainer" to grant the
  // trainer's role, a user could vouch for runs; were "x:sre" to grant sre, read every squad.
  if (data_->service_roles.contains(role)) return false;
  // A pattern naming its role was written for that role; {role} stands only for what is safe
  // to hand out by group name.
  return binding.role != kRolePlaceholder || !data_->everywhere_roles.contains(role);
}

const Grant* Policy::GrantOf(absl::string_view role, absl::string_view permission) const {
  auto role_it = data_->grants_by_role.find(role);
  if (role_it == data_->grants_by_role.end()) return nullptr;
  auto it = role_it->second.find(permission);
  return it == role_it->second.end() ? nullptr : &data_->grants[it->second];
}

Decision Policy::Decide(const Subject& subject, absl::string_view permission,
                        absl::string_view squad) const {
  Decision decision;
  if (squad.empty()) {
    decision.reason = absl::StrCat(subject.name, " lacks ", permission,
                                   ": the call names no squad to check it in");
    return decision;
  }
  const std::vector<Held> held = HeldBy(subject);
  for (const Held& h : held) {
    if (h.squad == kAllSquads || h.squad == squad) decision.roles.push_back(h.role);
  }
  SortUnique(&decision.roles);
  for (const Held& h : held) {
    const Grant* grant = GrantOf(h.role, permission);
    if (grant == nullptr) continue;
    // A "*" scope or a role held in every squad reaches every squad; otherwise only the squad the
    // role is held in, which cannot stand for "every squad".
    const bool everywhere = grant->scope == Scope::kAllSquads || h.squad == kAllSquads;
    if (!everywhere && (h.squad != squad || squad == kAllSquads)) continue;
    decision.allowed = true;
    decision.reason = absl::StrCat(
        subject.name, " holds ", permission, " ", InSquad(squad), ": role ", h.role, " in ",
        h.squad == kAllSquads ? "every squad" : absl::StrCat("squad ", h.squad), " (",
        h.binding->where, ": ", h.binding->rule, "), granted by ", grant->where, ": ", grant->rule);
    return decision;
  }
  decision.reason = absl::StrCat(
      subject.name, " lacks ", permission, " ", InSquad(squad),
      " (holds: ", decision.roles.empty() ? "no role" : absl::StrJoin(decision.roles, ", "), ")");
  return decision;
}

std::vector<std::string> Policy::RolesIn(const Subject& subject, absl::string_view squad) const {
  std::vector<std::string> roles;
  for (Held& h : HeldBy(subject)) {
    if (h.squad == kAllSquads || h.squad == squad) roles.push_back(std::move(h.role));
  }
  SortUnique(&roles);
  return roles;
}

std::vector<std::string> Policy::SquadsWith(const Subject& subject,
                                            absl::string_view permission) const {
  std::vector<std::string> squads;
  for (Held& h : HeldBy(subject)) {
    const Grant* grant = GrantOf(h.role, permission);
    if (grant == nullptr) continue;
    if (grant->scope == Scope::kAllSquads || h.squad == kAllSquads) {
      return {std::string(kAllSquads)};
    }
    squads.push_back(std::move(h.squad));
  }
  SortUnique(&squads);
  return squads;
}

}  // namespace fabrique::auth
