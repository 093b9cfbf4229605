#ifndef FABRIQUE_TESTS_INTEGRATION_SECURE_SERVICE_H_
#define FABRIQUE_TESTS_INTEGRATION_SECURE_SERVICE_H_

// How the integration tests run the real binaries as a deployment does: TLS with certificates
// from a local authority, tokens verified against its JWKS and calls decided by the default
// policy, all in a temp dir as `fabrique up` makes them under DATA_DIR/auth. Clients verify the
// server against the authority's CA and call with tokens it minted.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "tests/util/test_identity.h"

namespace fabrique::testing {

// One local authority and policy (admin "root") per test process, shared by its tests.
inline const TestIdentity& LocalIdentity() {
  static const TestIdentity* const identity = new TestIdentity();
  return *identity;
}

// The flags that make the binary of `service` ("features", ...) serve TLS with `identity`'s
// certificate for it, verify tokens with its JWKS and decide calls with its policy file.
inline std::vector<std::string> SecureServerFlags(const TestIdentity& identity,
                                                  const std::string& service) {
  const auth::LocalAuthority& authority = identity.authority();
  return {absl::StrCat("--tls_cert=", authority.cert_path(service)),
          absl::StrCat("--tls_key=", authority.key_path(service)),
          absl::StrCat("--tls_client_ca=", authority.ca_cert_path()),
          absl::StrCat("--jwks=", authority.jwks_path()),
          absl::StrCat("--token_issuer=", authority.issuer()),
          absl::StrCat("--token_audience=", authority.audience()),
          absl::StrCat("--policy=", identity.policy_path())};
}

// A TLS channel to `target` that trusts `identity`'s CA. With `share_connections` false it has
// a connection of its own, so its first call makes a new handshake.
inline std::shared_ptr<grpc::Channel> SecureChannel(const TestIdentity& identity,
                                                    const std::string& target,
                                                    bool share_connections = true) {
  client::ChannelOptions options;
  options.target = target;
  options.tls.ca_path = identity.authority().ca_cert_path();
  options.share_connections = share_connections;
  auto channel = client::MakeChannel(options);
  INFO(channel.status().ToString());
  REQUIRE(channel.ok());
  return *std::move(channel);
}

// A client context carrying a token of `identity` for `user` in `groups`, and a deadline
// `timeout` from now.
inline std::unique_ptr<grpc::ClientContext> TokenContext(const TestIdentity& identity,
                                                         const std::string& user,
                                                         const std::vector<std::string>& groups,
                                                         absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context->AddMetadata("authorization", absl::StrCat("Bearer ", identity.Token(user, groups)));
  return context;
}

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_INTEGRATION_SECURE_SERVICE_H_
