#ifndef FABRIQUE_TESTS_SERVICES_ACCESS_REFUSALS_H_
#define FABRIQUE_TESTS_SERVICES_ACCESS_REFUSALS_H_

// The services' access tests' shared pieces: the identity their servers trust, the check of a
// denial, and the credentials an adapter must refuse with UNAUTHENTICATED:
// none, an expired token, one signed by another authority, one with alg "none", one for another
// audience and a malformed authorization header. Each comes with the words its refusal names.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/token_mint.h"
#include "tests/util/test_identity.h"

namespace fabrique::testing {

// The identity the services' test servers trust: one local authority per test binary.
inline TestIdentity& SharedIdentity() {
  static TestIdentity* const identity = new TestIdentity();
  return *identity;
}

// Checks that `status` is PERMISSION_DENIED naming `permission` and `squad`.
inline void CheckDenied(const grpc::Status& status, const std::string& permission,
                        const std::string& squad) {
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(absl::StrContains(status.error_message(), permission));
  CHECK(absl::StrContains(status.error_message(), squad));
}

struct BadCredential {
  std::string name;    // What is wrong, for the test's report.
  std::string header;  // The authorization header sent; "" = none.
};

// A token `identity`'s authority signed, with `audience` and `expires` as given.
inline std::string SignedToken(const TestIdentity& identity, const std::string& audience,
                               absl::Time expires) {
  auth::TokenClaims claims;
  claims.subject = "dana";
  claims.groups = {"risk:platform-admin"};
  claims.issuer = identity.authority().issuer();
  claims.audience = audience;
  claims.issued_at = expires - absl::Hours(1);
  claims.expires = expires;
  absl::StatusOr<std::string> token = auth::MintToken(identity.authority().signing_key(), claims);
  return token.ok() ? *token : std::string("mint failed");
}

// Every credential the guard must refuse; `identity` is the one the server trusts. Each would
// make dana a platform admin of risk if it were accepted.
inline std::vector<BadCredential> BadCredentials(const TestIdentity& identity) {
  static TestIdentity* const stranger = new TestIdentity();  // Another authority's key.
  const std::string payload = auth::Base64UrlEncode(
      absl::StrCat(R"({"sub":"dana","groups":["risk:platform-admin"],"iss":")",
                   identity.authority().issuer(), R"(","aud":")", identity.authority().audience(),
                   R"(","exp":)", absl::ToUnixSeconds(absl::Now() + absl::Hours(1)), "}"));
  return {
      {"no credentials", ""},
      {"an expired token",
       absl::StrCat("Bearer ", SignedToken(identity, identity.authority().audience(),
                                           absl::Now() - absl::Minutes(30)))},
      {"a token from another key",
       absl::StrCat("Bearer ", stranger->Token("dana", {"risk:platform-admin"}))},
      {"alg none", absl::StrCat("Bearer ", auth::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})"),
                                ".", payload, ".")},
      {"a wrong audience", absl::StrCat("Bearer ", SignedToken(identity, "someone-else",
                                                               absl::Now() + absl::Hours(1)))},
      {"a malformed authorization header",
       absl::StrCat("Token ", identity.Token("dana", {"risk:platform-admin"}))},
  };
}

// A client context carrying `bad` and a 10 s deadline.
inline std::unique_ptr<grpc::ClientContext> ContextWith(const BadCredential& bad) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!bad.header.empty()) context->AddMetadata("authorization", bad.header);
  return context;
}

// Checks that every case (a testing::AccessCase, tests/util/access_requests.h) called through
// `stub` with each of `identity`'s bad credentials is UNAUTHENTICATED.
template <typename Stub, typename Case>
void CheckBadCredentials(Stub& stub, const std::vector<Case>& cases, const TestIdentity& identity) {
  for (const BadCredential& bad : BadCredentials(identity)) {
    for (const Case& c : cases) {
      INFO(c.method << " with " << bad.name);
      const grpc::Status status = c.call(stub, ContextWith(bad).get());
      INFO(status.error_message());
      CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    }
  }
}

// A context whose token makes `user` a data scientist of `squad`, and which also forges the old
// asserted-identity headers claiming platform admin: those must change nothing.
inline std::unique_ptr<grpc::ClientContext> ForgedContext(const TestIdentity& identity,
                                                          const std::string& user,
                                                          const std::string& squad) {
  auto context = identity.Context(user, {absl::StrCat(squad, ":data-scientist")});
  context->AddMetadata("x-fabrique-user", "root");
  context->AddMetadata("x-fabrique-roles", "platform-admin,design-authority");
  context->AddMetadata("x-fabrique-squad", "*");
  return context;
}

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_SERVICES_ACCESS_REFUSALS_H_
