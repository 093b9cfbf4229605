#ifndef FABRIQUE_LIBS_SERVER_ACCESS_H_
#define FABRIQUE_LIBS_SERVER_ACCESS_H_

// Who is calling, and whether they may: the guard every adapter calls first.
//
// Authentication reads only what was verified: the bearer token (checked by libs/auth's
// JwtVerifier, cached) and the client certificate gRPC's TLS verified (a service). A service may
// act for a user with fabrique-on-behalf-of-* metadata, honoured only when the policy lets that
// service delegate; both are then checked. Authorisation looks the method up in the service's
// table (libs/auth/method_table.h), finds the squad it acts in, and asks the policy. The
// x-fabrique-* headers of old are never read.
//
//   ServiceAccess access(guard, v1::ModelRegistry::service_full_name(), owner_lookup);
//   ASSIGN_OR_RETURN(Caller caller, access.Check(*context, "GetModel", *request));
//   store->...(caller.principal)

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "libs/auth/authorizer.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/method_table.h"
#include "libs/auth/policy.h"
#include "libs/auth/policy_store.h"
#include "libs/client/call_context.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"

namespace fabrique::server {

// Metadata a service sends when it acts for a user: the client layer's names, so the two ends
// cannot drift apart.
inline constexpr const char* kOnBehalfOfUser = client::kOnBehalfOfUserKey;
inline constexpr const char* kOnBehalfOfGroups = client::kOnBehalfOfGroupsKey;

// The verified caller of one call.
struct Authentication {
  // Whom the policy is asked about: "user:<sub>", "service:<name>" or "anonymous".
  auth::Subject subject;
  // The service whose certificate made the call for `subject`'s user; "" otherwise.
  std::string delegating_service;
  // "token", "certificate", "certificate+on-behalf-of" or "insecure".
  std::string method;
  absl::Time expires = absl::InfiniteFuture();  // The token's expiry.
};

// A call allowed, as its adapter uses it.
struct Caller {
  // What the cores record: the user (or "service:<name>"), the roles held in `squad`, the squad,
  // the delegating service and the token's groups.
  v1::Principal principal;
  // For calls across squads (lists): the squads the permission holds in, sorted; {"*"} = all.
  std::vector<std::string> squads;
  // Whether a resource owned by `squad` may be shown to this caller.
  bool Sees(absl::string_view squad) const;
};

struct AccessOptions {
  // Short service name, for metric names: "features". Required.
  std::string service_name;
  // Verifies bearer tokens. Not owned; required unless `insecure`.
  const auth::JwtVerifier* tokens = nullptr;
  // The RBAC policy in force. Not owned; required unless `insecure`.
  auth::PolicyStore* policy = nullptr;
  // No authentication: every call acts as "anonymous" holding every permission (the binaries'
  // --insecure). Default false.
  bool insecure = false;
  // Registers fabrique_<service>_auth_denials_total here when set. Not owned.
  prometheus::Registry* metrics = nullptr;
};

class Access {
 public:
  static absl::StatusOr<std::unique_ptr<Access>> Create(AccessOptions options);

  // Who made the call. UNAUTHENTICATED naming why (expired, wrong audience, bad signature,
  // unknown key, malformed header, no credentials); PERMISSION_DENIED when a service claims to
  // act for a user without being allowed to delegate.
  absl::StatusOr<Authentication> Authenticate(const grpc::ServerContextBase& context) const;

  // Who presents `header`, an Authorization header's value ("" when none): a bearer token,
  // verified as Authenticate verifies a call's, for pages served over HTTP (http_pages.h).
  // UNAUTHENTICATED as Authenticate; anonymous with every permission under `insecure`.
  absl::StatusOr<Authentication> AuthenticateBearer(absl::string_view header) const;

  // Whether `who` holds `permission` in `squad` ("*" = platform-wide). When a service acts for a
  // user, both must hold it.
  auth::Decision Decide(const Authentication& who, absl::string_view permission,
                        absl::string_view squad) const;

  // Authenticates the call and authorises `method` of `service_full_name` for `request`:
  // PERMISSION_DENIED when the method has no rule, or the caller lacks its permission in the
  // squad (the message names both); errors finding the squad (INVALID_ARGUMENT for a missing
  // field, NOT_FOUND for a missing resource) as they are.
  absl::StatusOr<Caller> Check(const grpc::ServerContextBase& context,
                               absl::string_view service_full_name, absl::string_view method,
                               const google::protobuf::Message& request,
                               const auth::OwnerLookup& owner_of) const;

  // Check's authorisation, for a caller authenticated already (AuthenticateBearer): an HTTP page
  // showing what `method` returns asks under that method's rule.
  absl::StatusOr<Caller> Authorize(const Authentication& who, absl::string_view service_full_name,
                                   absl::string_view method,
                                   const google::protobuf::Message& request,
                                   const auth::OwnerLookup& owner_of) const;

  // The policy in force; null with `insecure`.
  std::shared_ptr<const auth::Policy> policy() const;
  bool insecure() const { return options_.insecure; }

 private:
  explicit Access(AccessOptions options);
  // The service a verified client certificate names; "" when the peer presented none.
  absl::StatusOr<std::string> PeerService(const grpc::ServerContextBase& context) const;
  absl::StatusOr<Authentication> Delegated(const grpc::ServerContextBase& context,
                                           std::string service, absl::string_view user) const;
  // The rule of `method`; PERMISSION_DENIED (counted) when it has none.
  absl::StatusOr<const auth::MethodRule*> RuleOf(absl::string_view service_full_name,
                                                 absl::string_view method) const;
  // Counts a refusal and returns it.
  absl::Status Refuse(absl::Status status) const;

  AccessOptions options_;
  auth::Authorizer authorizer_;
  prometheus::Family<prometheus::Counter>* denials_ = nullptr;
  prometheus::Counter* unauthenticated_ = nullptr;
  prometheus::Counter* permission_denied_ = nullptr;
};

// One service's view of the guard: its full name and how its resources' owners are found.
class ServiceAccess {
 public:
  ServiceAccess(const Access* access, std::string service_full_name, auth::OwnerLookup owner_of)
      : access_(access), service_(std::move(service_full_name)), owner_of_(std::move(owner_of)) {}

  absl::StatusOr<Caller> Check(const grpc::ServerContextBase& context, absl::string_view method,
                               const google::protobuf::Message& request) const {
    return access_->Check(context, service_, method, request, owner_of_);
  }
  const Access& guard() const { return *access_; }

 private:
  const Access* access_;
  std::string service_;
  auth::OwnerLookup owner_of_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_ACCESS_H_
