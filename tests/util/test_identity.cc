#include "tests/util/test_identity.h"

#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "libs/auth/default_policy.h"

namespace fabrique::testing {
namespace {

template <typename T>
T Must(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) throw std::runtime_error(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

}  // namespace

TestIdentity::TestIdentity(TestIdentityOptions options) {
  auth::LocalAuthorityOptions authority;
  authority.dir = dir_.Sub("auth");
  authority_ = Must(auth::LocalAuthority::Open(authority), "local authority");
  {
    std::ofstream policy(policy_path());
    policy << auth::DefaultPolicyText(options.admin);
    for (const std::string& line : options.extra_policy) policy << line << "\n";
  }
  auth::JwtVerifierOptions tokens;
  tokens.jwks_path = authority_->jwks_path();
  tokens.issuer = authority_->issuer();
  tokens.audience = authority_->audience();
  tokens_ = Must(auth::JwtVerifier::Create(tokens), "token verifier");
  auth::PolicyStore::Options policy;
  policy.path = policy_path();
  policy.reload_check_interval = absl::ZeroDuration();
  policy_ = Must(auth::PolicyStore::Create(policy), "policy");
  server::AccessOptions access;
  access.service_name = "test";
  access.tokens = tokens_.get();
  access.policy = policy_.get();
  access.metrics = options.metrics;
  access_ = Must(server::Access::Create(access), "access guard");
}

std::string TestIdentity::Token(const std::string& user, const std::vector<std::string>& groups,
                                absl::Duration ttl) const {
  return Must(authority_->MintToken(user, groups, ttl), "token");
}

std::unique_ptr<grpc::ClientContext> TestIdentity::Context(
    const std::string& user, const std::vector<std::string>& groups) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context->AddMetadata("authorization", absl::StrCat("Bearer ", Token(user, groups)));
  return context;
}

}  // namespace fabrique::testing
