#ifndef FABRIQUE_TESTS_UTIL_TEST_IDENTITY_H_
#define FABRIQUE_TESTS_UTIL_TEST_IDENTITY_H_

// Real identity for tests: a local authority (CA, service certificates, token signing key) in a
// temp dir, a token verifier and a policy file, and the access guard built from them, as a binary
// builds it from --jwks and --policy. Tests mint tokens for the users they play and send them as
// a squad's client would.
//
//   testing::TestIdentity identity;                       // the default policy, admin "root"
//   server::ServiceAccess access(identity.guard(), v1::ModelRegistry::service_full_name(), owners);
//   auto context = identity.Context("dana", {"risk:data-scientist"});

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/local_authority.h"
#include "libs/auth/policy_store.h"
#include "libs/server/access.h"
#include "tests/util/test_util.h"

namespace fabrique::testing {

struct TestIdentityOptions {
  // Lines appended to the default policy (auth::DefaultPolicyText), e.g.
  // "g, user:erin, *:design-authority". Default none.
  std::vector<std::string> extra_policy;
  // The user the default policy makes platform-admin. Default "root".
  std::string admin = "root";
  // Registers the guard's metrics here when set.
  prometheus::Registry* metrics = nullptr;
};

class TestIdentity {
 public:
  explicit TestIdentity(TestIdentityOptions options = {});

  // The guard, for adapters under test.
  const server::Access* guard() const { return access_.get(); }
  const auth::LocalAuthority& authority() const { return *authority_; }
  // The policy file; tests may rewrite it to test reloads.
  std::string policy_path() const { return dir_.Sub("policy.csv"); }
  std::string dir() const { return dir_.path(); }

  // A token for `user` with `groups` (e.g. "risk:data-scientist", which the default policy's
  // pattern binding reads as the role data-scientist in squad risk), valid for `ttl`.
  std::string Token(const std::string& user, const std::vector<std::string>& groups,
                    absl::Duration ttl = absl::Hours(1)) const;
  // A client context carrying that token and a 10 s deadline.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& user,
                                               const std::vector<std::string>& groups) const;

 private:
  TempDir dir_;
  std::unique_ptr<auth::LocalAuthority> authority_;
  std::unique_ptr<auth::JwtVerifier> tokens_;
  std::unique_ptr<auth::PolicyStore> policy_;
  std::unique_ptr<server::Access> access_;
};

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_UTIL_TEST_IDENTITY_H_
