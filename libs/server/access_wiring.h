#ifndef FABRIQUE_LIBS_SERVER_ACCESS_WIRING_H_
#define FABRIQUE_LIBS_SERVER_ACCESS_WIRING_H_

// What every binary's wiring function does for identity: from --jwks, --token_issuer,
// --token_audience and --policy (or --insecure), build the token verifier, the reloading policy
// and the access guard, serve fabrique.v1.Access (whoami, can-i) and export the policy's reload
// counters on /metrics.
//
//   ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
//   FeatureStoreService service(store, access->guard(), ...);

#include <memory>

#include "absl/status/statusor.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/policy_store.h"
#include "libs/server/access.h"
#include "libs/server/access_service.h"
#include "libs/server/bindings_follower.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"

namespace fabrique::server {

// Owns the pieces; outlives the host's serving.
class AccessRuntime {
 public:
  const Access* guard() const { return access_.get(); }
  // The policy in force, for a binary that feeds it bindings itself (the tower, from its own
  // squads); null with --insecure.
  auth::PolicyStore* policy_store() const { return policy_.get(); }

 private:
  friend absl::StatusOr<std::unique_ptr<AccessRuntime>> ServeAccess(const ServiceFlags&,
                                                                    ServiceHost*);
  std::unique_ptr<auth::JwtVerifier> tokens_;
  std::unique_ptr<auth::PolicyStore> policy_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<AccessService> service_;
  std::shared_ptr<prometheus::Collectable> reload_metrics_;
  // Follows the tower's role bindings into `policy_` (--bindings_target); stopped first.
  std::unique_ptr<BindingsFollower> bindings_;
};

// Builds the guard from `flags` and registers fabrique.v1.Access on `host` (before Start). Without
// --insecure, --jwks and --policy are required: INVALID_ARGUMENT says so; a file that cannot be
// read or parsed is an error naming it (a policy's syntax error names the line). With
// --bindings_target, the policy also follows the tower's role bindings (bindings_follower.h).
absl::StatusOr<std::unique_ptr<AccessRuntime>> ServeAccess(const ServiceFlags& flags,
                                                           ServiceHost* host);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_ACCESS_WIRING_H_
