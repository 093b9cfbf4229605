// `fabrique auth whoami` and `fabrique auth can-i` against a real fabrique.v1.Access over TLS,
// with the access guard, policy and tokens of a local authority (TestIdentity): what the command
// prints, its exit codes, and the hint a refused caller gets.

#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "libs/server/access_service.h"
#include "libs/server/server_credentials.h"
#include "tests/util/test_identity.h"
#include "tools/cli/commands.h"
#include "tools/cli/local_token.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

// The Access service of TestIdentity's guard, serving TLS with the registry's certificate.
class AccessServer {
 public:
  explicit AccessServer(const testing::TestIdentity& identity) : service_(identity.guard()) {
    const auth::LocalAuthority& authority = identity.authority();
    auto credentials = server::MakeServerCredentials(
        {authority.cert_path("registry"), authority.key_path("registry"), authority.ca_cert_path()},
        absl::Seconds(1));
    REQUIRE(credentials.ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
  }
  ~AccessServer() { server_->Shutdown(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  server::AccessService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

struct Run {
  int code;
  std::string out;
  std::string err;
};

// Runs `fabrique auth ARGS`, capturing what it prints.
Run Auth(std::vector<std::string> args) {
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  const int code = RunAuth(args);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Against(const AccessServer& server, const testing::TestIdentity& identity,
                                 std::vector<std::string> args, const std::string& token) {
  args.insert(args.end(),
              {"--target", server.address(), "--ca", identity.authority().ca_cert_path()});
  if (!token.empty()) {
    args.push_back("--token");
    args.push_back(token);
  }
  return args;
}

TEST_CASE("whoami prints the subject, how, expiry and roles per squad as the server sees them") {
  testing::TestIdentity identity;
  AccessServer server(identity);
  const std::string dana =
      identity.Token("dana", {"risk:data-scientist", "growth:data-engineer"}, absl::Minutes(30));
  const Run who = Auth(Against(server, identity, {"whoami"}, dana));
  INFO(who.err);
  REQUIRE(who.code == 0);
  CHECK(absl::StrContains(who.out, "subject:        dana\n"));
  CHECK(absl::StrContains(who.out, "authenticated:  token (credentials: --token)\n"));
  CHECK(absl::StrContains(who.out, "groups:         risk:data-scientist,growth:data-engineer\n"));
  CHECK(absl::StrContains(who.out, "(in 29m"));
  CHECK(absl::StrContains(who.out, "\nrisk             data-scientist\n"));
  CHECK(absl::StrContains(who.out, "\ngrowth           data-engineer\n"));

  // The admin of the default policy holds platform-admin everywhere.
  const Run root = Auth(Against(server, identity, {"whoami"}, identity.Token("root", {})));
  REQUIRE(root.code == 0);
  CHECK(absl::StrContains(root.out, "* (every squad)  platform-admin\n"));
}

TEST_CASE("whoami without credentials is UNAUTHENTICATED, with the hint; exit 1") {
  testing::TestIdentity identity;
  AccessServer server(identity);
  const Run none = Auth(Against(server, identity, {"whoami", "--service", "features"}, ""));
  CHECK(none.code == 1);
  CHECK(none.out.empty());
  CHECK(absl::StrContains(none.err, "fabrique auth whoami: credentials: none\n"));
  CHECK(absl::StrContains(none.err, "WhoAmI: UNAUTHENTICATED: no credentials"));
  CHECK(absl::StrContains(none.err, "hint: the server did not accept your credentials"));

  // Minted an hour ago for a minute: long past the verifier's allowance for clock skew.
  core::FakeClock an_hour_ago(absl::Now() - absl::Hours(1));
  MintRequest mint;
  mint.signing_key_path = identity.authority().signing_key_path();
  mint.subject = "dana";
  mint.ttl = absl::Minutes(1);
  const absl::StatusOr<std::string> old = MintWithKeyFile(mint, &an_hour_ago);
  REQUIRE(old.ok());
  const Run expired = Auth(Against(server, identity, {"whoami"}, *old));
  CHECK(expired.code == 1);
  CHECK(absl::StrContains(expired.err, "UNAUTHENTICATED: token expired at"));
}

TEST_CASE("can-i answers yes or no with the reason; exit 0 for yes, 1 for no") {
  testing::TestIdentity identity;
  AccessServer server(identity);
  const std::string dana = identity.Token("dana", {"risk:data-scientist"});
  const Run yes =
      Auth(Against(server, identity, {"can-i", "models.promote", "--squad", "risk"}, dana));
  INFO(yes.err);
  CHECK(yes.code == 0);
  CHECK(absl::StartsWith(yes.out, "yes\n"));
  CHECK(yes.out.size() > 4);  // The reason follows.

  const Run no =
      Auth(Against(server, identity, {"can-i", "models.approve", "--squad", "risk"}, dana));
  CHECK(no.code == 1);
  CHECK(absl::StartsWith(no.out, "no\n"));
  CHECK(absl::StrContains(no.out, "models.approve"));
  CHECK(no.err.empty());

  const Run typo =
      Auth(Against(server, identity, {"can-i", "models.aprove", "--squad", "risk"}, dana));
  CHECK(typo.code == 2);
  CHECK(absl::StrContains(typo.err,
                          "unknown permission 'models.aprove' (did you mean "
                          "'models.approve'?)"));
}

TEST_CASE("the hint follows the code: how to get a token, or how to see one's roles") {
  CHECK(absl::StrContains(AccessHint(absl::UnauthenticatedError("token expired")),
                          "'fabrique auth token'"));
  CHECK(absl::StrContains(AccessHint(absl::PermissionDeniedError("user:bob lacks models.approve")),
                          "'fabrique auth whoami' shows your roles"));
  CHECK(AccessHint(absl::NotFoundError("no model")).empty());
}

}  // namespace
}  // namespace fabrique::cli
