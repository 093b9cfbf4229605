// The access guard through fabrique.v1.Access on a real TLS host: who a caller is (token,
// certificate, delegation), what it may do (can-i), and every way a credential is refused.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/access.grpc.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/auth/token_mint.h"
#include "libs/auth/token_signing_key.h"
#include "libs/client/channel.h"
#include "libs/server/access_service.h"
#include "libs/server/server_credentials.h"
#include "libs/server/service_host.h"
#include "prometheus/text_serializer.h"
#include "tests/util/test_identity.h"

namespace fabrique {
namespace {

using testing::TestIdentity;

// A TLS host serving fabrique.v1.Access over `identity`'s guard, with the registry's certificate.
struct AccessServer {
  explicit AccessServer(const TestIdentity& identity) : service(identity.guard()) {
    server::ServiceHostOptions options;
    options.service_name = "registry";
    options.listen_host = "127.0.0.1";
    options.metrics_port = -1;
    const auth::LocalAuthority& authority = identity.authority();
    options.tls = server::TlsFiles{authority.cert_path("registry"), authority.key_path("registry"),
                                   authority.ca_cert_path()};
    host = *server::ServiceHost::Create(options);
    host->AddService(&service, v1::Access::service_full_name(), "");
    REQUIRE(host->Start().ok());
  }
  ~AccessServer() { host->Shutdown(); }

  // A stub over TLS trusting the local CA; presenting `service`'s certificate when given.
  std::unique_ptr<v1::Access::Stub> Stub(const TestIdentity& identity,
                                         const std::string& as_service = "") {
    const auth::LocalAuthority& authority = identity.authority();
    client::ChannelOptions options;
    options.target = absl::StrCat("127.0.0.1:", host->port());
    options.tls.ca_path = authority.ca_cert_path();
    if (!as_service.empty()) {
      options.tls.cert_path = authority.cert_path(as_service);
      options.tls.key_path = authority.key_path(as_service);
    }
    options.share_connections = false;
    return v1::Access::NewStub(*client::MakeChannel(options));
  }

  server::AccessService service;
  std::unique_ptr<server::ServiceHost> host;
};

grpc::ClientContext* WithDeadline(grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return context;
}

// WhoAmI from a service (the stub's certificate) saying it acts for `user`.
grpc::Status WhoAmIOnBehalfOf(v1::Access::Stub& stub, const std::string& user,
                              v1::WhoAmIResponse* response) {
  grpc::ClientContext context;
  WithDeadline(&context);
  context.AddMetadata(server::kOnBehalfOfUser, user);
  return stub.WhoAmI(&context, v1::WhoAmIRequest(), response);
}

grpc::Status WhoAmI(v1::Access::Stub& stub, const std::string& authorization,
                    v1::WhoAmIResponse* response) {
  grpc::ClientContext context;
  WithDeadline(&context);
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  return stub.WhoAmI(&context, v1::WhoAmIRequest(), response);
}

TEST_CASE("a bearer token names the user, its groups and its roles", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  v1::WhoAmIResponse who;
  const grpc::Status status =
      WhoAmI(*stub, "Bearer " + identity.Token("dana", {"risk:data-scientist"}), &who);
  REQUIRE(status.ok());
  CHECK(who.caller().subject() == "dana");
  CHECK(who.caller().service().empty());
  CHECK(who.authenticated_by() == "token");
  REQUIRE(who.groups_size() == 1);
  CHECK(who.groups(0) == "risk:data-scientist");
  REQUIRE(who.roles_size() == 1);
  CHECK(who.roles(0).squad() == "risk");
  CHECK(who.roles(0).role() == "data-scientist");
  CHECK(who.has_expires());
}

TEST_CASE("a service's client certificate names the service", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto stub = server.Stub(identity, "trainer");
  v1::WhoAmIResponse who;
  REQUIRE(WhoAmI(*stub, "", &who).ok());
  CHECK(who.caller().subject() == "service:trainer");
  CHECK(who.authenticated_by() == "certificate");
}

TEST_CASE("a service acts for a user only when the policy lets it delegate", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto ask = [&](const std::string& as_service, const std::string& permission,
                 v1::CanIResponse* answer) {
    auto stub = server.Stub(identity, as_service);
    grpc::ClientContext context;
    WithDeadline(&context);
    context.AddMetadata(server::kOnBehalfOfUser, "dana");
    context.AddMetadata(server::kOnBehalfOfGroups, "risk:data-scientist");
    v1::CanIRequest request;
    request.set_permission(permission);
    request.set_squad("risk");
    return stub->CanI(&context, request, answer);
  };
  SECTION("the trainer, for a data scientist, may build a dataset in her squad") {
    v1::CanIResponse answer;
    REQUIRE(ask("trainer", "datasets.build", &answer).ok());
    CHECK(answer.allowed());
  }
  SECTION("but not approve a promotion: the user lacks it") {
    v1::CanIResponse answer;
    REQUIRE(ask("trainer", "models.approve", &answer).ok());
    CHECK_FALSE(answer.allowed());
    CHECK(answer.reason().find("user:dana lacks models.approve in squad risk") !=
          std::string::npos);
  }
  SECTION("a service the policy does not let delegate is refused") {
    v1::CanIResponse answer;
    REQUIRE(ask("features", "datasets.build", &answer).ok());
    CHECK_FALSE(answer.allowed());
    CHECK(answer.reason().find("auth.delegate") != std::string::npos);
  }
  SECTION("whoami reports the delegation") {
    auto stub = server.Stub(identity, "trainer");
    v1::WhoAmIResponse who;
    REQUIRE(WhoAmIOnBehalfOf(*stub, "dana", &who).ok());
    CHECK(who.caller().subject() == "dana");
    CHECK(who.caller().service() == "trainer");
    CHECK(who.authenticated_by() == "certificate+on-behalf-of");
  }
}

TEST_CASE("on-behalf-of without a service certificate is refused", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  grpc::ClientContext context;
  WithDeadline(&context);
  context.AddMetadata("authorization", "Bearer " + identity.Token("mallory", {}));
  context.AddMetadata(server::kOnBehalfOfUser, "root");
  v1::WhoAmIResponse who;
  const grpc::Status status = stub->WhoAmI(&context, v1::WhoAmIRequest(), &who);
  CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(status.error_message().find("client certificate") != std::string::npos);
}

TEST_CASE("credentials that do not verify are UNAUTHENTICATED, naming why", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  const auth::LocalAuthority& authority = identity.authority();
  auto mint = [&](const auth::SigningKey& key, absl::Time expires, const std::string& audience) {
    auth::TokenClaims claims;
    claims.subject = "dana";
    claims.issuer = authority.issuer();
    claims.audience = audience;
    claims.expires = expires;
    return *auth::MintToken(key, claims);
  };
  const absl::Time later = absl::Now() + absl::Hours(1);
  struct Case {
    std::string name, authorization, reason;
  };
  const Case cases[] = {
      {"no credentials", "", "no credentials"},
      {"not a bearer header", "Basic ZGFuYTpzZWNyZXQ=", "malformed authorization header"},
      {"an empty bearer", "Bearer ", "malformed authorization header"},
      {"expired",
       "Bearer " +
           mint(authority.signing_key(), absl::Now() - absl::Hours(1), authority.audience()),
       "token expired at"},
      {"wrong audience", "Bearer " + mint(authority.signing_key(), later, "someone-else"),
       "audience"},
      {"another key",
       "Bearer " + mint(*auth::SigningKey::GenerateEs256(), later, authority.audience()),
       "unknown key id"},
      {"alg none", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.", "alg 'none'"},
      {"garbage", "Bearer not.a.token", "malformed token"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      v1::WhoAmIResponse who;
      const grpc::Status status = WhoAmI(*stub, c.authorization, &who);
      CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
      CHECK(status.error_message().find(c.reason) != std::string::npos);
    }
  }
  // Refusals leave the server serving.
  v1::WhoAmIResponse who;
  CHECK(WhoAmI(*stub, "Bearer " + identity.Token("dana", {}), &who).ok());
}

TEST_CASE("x-fabrique-* headers claim nothing", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  grpc::ClientContext context;
  WithDeadline(&context);
  context.AddMetadata("authorization", "Bearer " + identity.Token("mallory", {}));
  context.AddMetadata("x-fabrique-user", "root");
  context.AddMetadata("x-fabrique-roles", "design-authority,platform-admin");
  context.AddMetadata("x-fabrique-squad", "risk");
  v1::CanIRequest request;
  request.set_permission("models.approve");
  request.set_squad("risk");
  v1::CanIResponse answer;
  REQUIRE(stub->CanI(&context, request, &answer).ok());
  CHECK_FALSE(answer.allowed());
  CHECK(answer.reason().find("user:mallory") != std::string::npos);
}

TEST_CASE("can-i answers from the policy, and names an unknown permission", "[access]") {
  TestIdentity identity({{"g, user:erin, *:design-authority"}});
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  auto can = [&](const std::string& user, const std::string& permission, const std::string& squad,
                 v1::CanIResponse* answer) {
    grpc::ClientContext context;
    WithDeadline(&context);
    context.AddMetadata("authorization", "Bearer " + identity.Token(user, {}));
    v1::CanIRequest request;
    request.set_permission(permission);
    request.set_squad(squad);
    return stub->CanI(&context, request, answer);
  };
  v1::CanIResponse answer;
  REQUIRE(can("erin", "models.policy.write", "risk", &answer).ok());
  CHECK(answer.allowed());
  CHECK(answer.reason().find("design-authority") != std::string::npos);
  REQUIRE(can("root", "models.admin", "", &answer).ok());
  CHECK(answer.allowed());
  const grpc::Status unknown = can("erin", "models.reed", "risk", &answer);
  CHECK(unknown.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(unknown.error_message().find("models.reed") != std::string::npos);
}

TEST_CASE("refusals are counted by reason", "[access]") {
  prometheus::Registry registry;
  TestIdentity identity({{}, "root", &registry});
  AccessServer server(identity);
  auto stub = server.Stub(identity);
  v1::WhoAmIResponse who;
  CHECK(WhoAmI(*stub, "Bearer junk", &who).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find("fabrique_test_auth_denials_total{reason=\"unauthenticated\"} 1") !=
        std::string::npos);
}

TEST_CASE("no token or delegation can claim to be a service", "[access]") {
  TestIdentity identity;
  AccessServer server(identity);
  SECTION("a token whose subject says service:") {
    auto stub = server.Stub(identity);
    v1::WhoAmIResponse who;
    const grpc::Status status =
        WhoAmI(*stub, "Bearer " + identity.Token("service:trainer", {}), &who);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(status.error_message().find("reserved") != std::string::npos);
  }
  SECTION("a service acting on behalf of another service") {
    auto stub = server.Stub(identity, "trainer");
    v1::WhoAmIResponse who;
    const grpc::Status status = WhoAmIOnBehalfOf(*stub, "service:tower", &who);
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(status.error_message().find("users only") != std::string::npos);
  }
}

}  // namespace
}  // namespace fabrique

namespace fabrique {
namespace {

// What an HTTP page beside /metrics asks of the guard: the Authorization header's token, then
// the rule of the gRPC method whose data it shows.
TEST_CASE("an HTTP page's bearer token is verified and authorised like a call's", "[access]") {
  TestIdentity identity;
  const server::Access& guard = *identity.guard();
  const absl::StatusOr<server::Authentication> dana = guard.AuthenticateBearer(
      absl::StrCat("Bearer ", identity.Token("dana", {"risk:data-scientist"})));
  REQUIRE(dana.ok());
  CHECK(dana->subject.name == "user:dana");
  CHECK(dana->method == "token");
  CHECK(guard.AuthenticateBearer("").status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(guard.AuthenticateBearer("Basic abc").status().code() ==
        absl::StatusCode::kUnauthenticated);
  CHECK(guard.AuthenticateBearer("Bearer not-a-jwt").status().code() ==
        absl::StatusCode::kUnauthenticated);

  // GetDriftReport's rule: monitoring.read in the squad owning the model.
  const auth::OwnerLookup owners = [](absl::string_view,
                                      absl::string_view model) -> absl::StatusOr<std::string> {
    if (model == "credit") return std::string("risk");
    return absl::NotFoundError(absl::StrCat("model ", model));
  };
  auto asking = [](const std::string& model) {
    fabrique::v1::GetDriftReportRequest request;
    request.mutable_model()->set_model(model);
    return request;
  };
  const absl::StatusOr<server::Caller> allowed =
      guard.Authorize(*dana, "fabrique.v1.Monitor", "GetDriftReport", asking("credit"), owners);
  REQUIRE(allowed.ok());
  CHECK(allowed->principal.squad() == "risk");
  const absl::StatusOr<server::Authentication> erin = guard.AuthenticateBearer(
      absl::StrCat("Bearer ", identity.Token("erin", {"fraud:data-scientist"})));
  REQUIRE(erin.ok());
  CHECK(guard.Authorize(*erin, "fabrique.v1.Monitor", "GetDriftReport", asking("credit"), owners)
            .status()
            .code() == absl::StatusCode::kPermissionDenied);
  CHECK(guard.Authorize(*dana, "fabrique.v1.Monitor", "GetDriftReport", asking("nope"), owners)
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(guard.Authorize(*dana, "fabrique.v1.Monitor", "NoSuchMethod", asking("credit"), owners)
            .status()
            .code() == absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace fabrique
