#ifndef FABRIQUE_LIBS_AUTH_POLICY_H_
#define FABRIQUE_LIBS_AUTH_POLICY_H_

// The access policy: which roles grant which permissions (`p` rules), and who holds which role in
// which squad (`g` bindings). Deny by default: nothing is granted that a rule does not say.
//
//   ASSIGN_OR_RETURN(Policy policy, Policy::Parse(text, PolicyFormat::kCsv));
//   Decision d = policy.Decide({"user:bob", {"risk-ds"}}, "models.approve", "risk");
//   if (!d.allowed) return absl::PermissionDeniedError(d.reason);
//
// The file shapes (CSV in the style of Argo CD's RBAC, or YAML) are described in policy_syntax.h.
// A Policy is immutable once parsed; Decide is called on every RPC, so bindings and grants are
// indexed at parse and a decision is a few hash lookups.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/policy_syntax.h"

namespace fabrique::auth {

// Who is asking. `name` is "user:<sub>", "service:<name>" (or "anonymous"); `groups` are the
// user's groups as the token carries them, without the "group:" prefix the policy writes.
struct Subject {
  std::string name;
  std::vector<std::string> groups;
};

struct Decision {
  bool allowed = false;
  // Denied: the message the caller sees, e.g.
  //   "user:bob lacks models.approve in squad risk (holds: data-scientist)".
  // Allowed: which binding and which rule granted it, for `fabrique auth can-i` and `whoami`.
  std::string reason;
  // The roles the subject holds in the squad asked about (bound there or in every squad), sorted.
  std::vector<std::string> roles;
};

class Policy {
 public:
  // Parses and validates a whole policy. Errors are INVALID_ARGUMENT and name where and what:
  // "line 7: unknown permission 'models.reed'" (CSV) or
  // "bindings[2].squad: ..." (YAML).
  static absl::StatusOr<Policy> Parse(absl::string_view text, PolicyFormat format);
  // Builds a policy from rules already parsed and validated (what Parse does after parsing).
  static Policy FromRules(std::vector<Grant> grants, std::vector<Binding> bindings);

  // Whether `subject` holds `permission` in `squad`. `squad` kAllSquads ("*") asks for a
  // platform-wide grant: one that holds in every squad. An empty squad is denied.
  Decision Decide(const Subject& subject, absl::string_view permission,
                  absl::string_view squad) const;

  // The roles `subject` holds in `squad` (bound there or in every squad), sorted, no repeats.
  std::vector<std::string> RolesIn(const Subject& subject, absl::string_view squad) const;

  // Every role `subject` holds, as (squad, role) pairs sorted by squad then role, no repeats;
  // squad "*" = every squad. What `fabrique auth whoami` shows.
  std::vector<std::pair<std::string, std::string>> RolesHeld(const Subject& subject) const;

  // The squads in which `subject` holds `permission`, sorted; {"*"} when it holds it in every
  // squad; empty when nowhere. Lists are filtered with it.
  std::vector<std::string> SquadsWith(const Subject& subject, absl::string_view permission) const;

  // The rules as parsed, in file order (for `fabrique auth` to show).
  const std::vector<Grant>& grants() const { return data_->grants; }
  const std::vector<Binding>& bindings() const { return data_->bindings; }

 private:
  // A role held by a subject in a squad ("*" = every squad), and the binding that says so.
  struct Held {
    std::string role;
    std::string squad;
    const Binding* binding;
  };
  struct Data {
    std::vector<Grant> grants;
    std::vector<Binding> bindings;
    // Subject ("user:alice", "group:risk-ds") -> indexes of its plain bindings.
    absl::flat_hash_map<std::string, std::vector<size_t>> bindings_by_subject;
    std::vector<size_t> pattern_bindings;
    // Roles no pattern binding grants: those bound to a service: subject (by a plain binding).
    absl::flat_hash_set<std::string> service_roles;
    // Roles a pattern's {role} never stands for: those with a "*"-scoped grant.
    absl::flat_hash_set<std::string> everywhere_roles;
    // Role -> permission -> index of the grant (the "*"-scoped one when both exist).
    absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, size_t>> grants_by_role;
  };

  explicit Policy(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  // Every role the subject holds, through its name, its groups and the pattern bindings.
  std::vector<Held> HeldBy(const Subject& subject) const;
  const Grant* GrantOf(absl::string_view role, absl::string_view permission) const;
  // Whether pattern `binding`, having matched `role`, may grant it (policy_syntax.h says which
  // roles a pattern never grants).
  bool PatternGrants(const Binding& binding, absl::string_view role) const;

  // Shared, so copying a Policy (e.g. out of a StatusOr) is cheap and the indexes' pointers into
  // `grants` and `bindings` stay valid.
  std::shared_ptr<const Data> data_;
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_POLICY_H_
