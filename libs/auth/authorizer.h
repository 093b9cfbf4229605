#ifndef FABRIQUE_LIBS_AUTH_AUTHORIZER_H_
#define FABRIQUE_LIBS_AUTH_AUTHORIZER_H_

// The whole access decision for one call, without gRPC: the method's rule (method_table.h), the
// squad it is checked in, the policy in force (policy_store.h) and delegation. A server's access
// guard authenticates the caller, then asks this and maps a refusal to its gRPC code.
//
//   Authorizer authorizer([&store] { return store->Current(); });
//   ASSIGN_OR_RETURN(Access access, authorizer.Check(caller, context.method(), request, owner_of));
//   // access.squads: where list results may come from ({"*"} = anywhere).
//
// Delegation: a service calling for a user names the user; the service must hold auth.delegate
// where the call acts, and then both the service and the user must hold the call's permission.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "libs/auth/method_table.h"
#include "libs/auth/policy.h"

namespace fabrique::auth {

// Who calls: the authenticated subject, and the user a service acts for, if any.
struct Caller {
  Subject subject;
  std::optional<Subject> on_behalf_of;
};

// What a call was allowed to do.
struct Access {
  const MethodRule* rule = nullptr;
  // The squad the call was checked in ("*" = platform-wide); empty for kAnyOwnSquad calls.
  std::string squad;
  // The squads the call may touch: {squad} for a single squad; for kAnyOwnSquad those where
  // every checked subject holds the permission ({"*"} = every squad). Lists keep to these.
  std::vector<std::string> squads;
  // Why each checked subject was allowed, service first (for logs and audit).
  std::vector<std::string> reasons;
};

class Authorizer {
 public:
  // `policy` returns the policy in force, e.g. PolicyStore::Current; called once per Check.
  explicit Authorizer(std::function<std::shared_ptr<const Policy>()> policy)
      : policy_(std::move(policy)) {}

  // Checks a call of `grpc_method_path` ("/fabrique.v1.ModelRegistry/GetModel") carrying
  // `request` (a stream's first message). PERMISSION_DENIED names what is missing: a method
  // without a rule, a refused delegation, or the subject, permission and squad
  // ("user:bob lacks models.approve in squad risk (holds: data-scientist)"). INVALID_ARGUMENT
  // when the request lacks the field naming its squad or resource; `owner_of`'s errors as they are.
  absl::StatusOr<Access> Check(const Caller& caller, absl::string_view grpc_method_path,
                               const google::protobuf::Message& request,
                               const OwnerLookup& owner_of = nullptr) const;

 private:
  std::function<std::shared_ptr<const Policy>()> policy_;
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_AUTHORIZER_H_
