// The binaries' security as a deployment meets it, through real processes: a server certificate
// rotated on disk is served to new connections without a restart; a policy that does not parse
// stops a start (naming the line) but not a running server, which keeps deciding by the policy it
// had; a client certificate signed by another CA is refused and the server keeps serving.

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/access.grpc.pb.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "grpcpp/security/auth_context.h"
#include "libs/auth/default_policy.h"
#include "libs/client/health_client.h"
#include "tests/integration/killable_service.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique {
namespace {

using testing::KillableService;
using testing::TempDir;
using testing::TestIdentity;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text) {
  // Written beside and renamed over, as an editor or a ConfigMap update does, so the server never
  // reads half a file.
  const std::string staged = path + ".new";
  std::ofstream(staged) << text;
  REQUIRE(std::rename(staged.c_str(), path.c_str()) == 0);
}

// The certificate the server at `target` presents to a new connection (PEM), or "" when no
// handshake succeeded.
std::string PresentedCertificate(const TestIdentity& identity, const std::string& target) {
  auto stub = v1::FeatureStore::NewStub(testing::SecureChannel(identity, target, false));
  auto context = testing::TokenContext(identity, "root", {}, absl::Seconds(5));
  v1::GetEntityRequest request;
  request.set_name("anything");
  v1::Entity entity;
  const grpc::Status status = stub->GetEntity(context.get(), request, &entity);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return "";
  const std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth == nullptr) return "";
  const std::vector<grpc::string_ref> pem = auth->FindPropertyValues("x509_pem_cert");
  return pem.empty() ? "" : std::string(pem.front().data(), pem.front().size());
}

// The value of the unlabelled metric `name` on the server's /metrics, or -1 when absent.
double Metric(const KillableService& server, const std::string& name) {
  auto body = testing::HttpGet("127.0.0.1", server.metrics_port(), "/metrics");
  if (!body.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    if (absl::ConsumePrefix(&line, name + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return value;
    }
  }
  return -1;
}

// Whether the policy in force lets `user` in `groups` hold `permission` in `squad`, as the
// server's fabrique.v1.Access answers.
bool CanI(const TestIdentity& identity, const KillableService& server, const std::string& user,
          const std::vector<std::string>& groups, const std::string& permission,
          const std::string& squad) {
  auto stub = v1::Access::NewStub(server.channel());
  auto context = testing::TokenContext(identity, user, groups, absl::Seconds(5));
  v1::CanIRequest request;
  request.set_permission(permission);
  request.set_squad(squad);
  v1::CanIResponse response;
  const grpc::Status status = stub->CanI(context.get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.allowed();
}

grpc::StatusCode GetModel(const TestIdentity& identity, const KillableService& server,
                          const std::string& user, const std::vector<std::string>& groups,
                          const std::string& model) {
  auto stub = v1::ModelRegistry::NewStub(server.channel());
  auto context = testing::TokenContext(identity, user, groups, absl::Seconds(5));
  v1::GetModelRequest request;
  request.set_name(model);
  v1::Model response;
  return stub->GetModel(context.get(), request, &response).error_code();
}

TEST_CASE("a server certificate rotated on disk is presented to new connections, no restart") {
  TestIdentity identity;
  TempDir tmp;
  KillableService features("fabrique-features", tmp.Sub("data"), tmp.Sub("features.log"),
                           {"--tls_reload_interval=1s"}, identity);
  const std::string cert_path = identity.authority().cert_path("features");
  const std::string first = ReadFile(cert_path);
  REQUIRE(PresentedCertificate(identity, features.target()) == first);

  REQUIRE(identity.authority()
              .IssueServiceCertificate("features", cert_path,
                                       identity.authority().key_path("features"), absl::Hours(24))
              .ok());
  const std::string second = ReadFile(cert_path);
  REQUIRE(second != first);
  std::string presented;
  CHECK(testing::PollUntil(
      [&] {
        presented = PresentedCertificate(identity, features.target());
        return presented == second;
      },
      absl::Seconds(30)));
  CHECK(presented == second);
  // The process that answered is the one started before the rotation.
  CHECK(client::CheckHealth(features.channel(), "", absl::Seconds(5))
            .value_or(client::Health::kUnknown) == client::Health::kServing);
}

TEST_CASE("a policy with a syntax error at start: the binary exits non-zero naming the line") {
  TestIdentity identity;
  TempDir tmp;
  WriteFile(identity.policy_path(),
            "# Roles.\n"
            "p, data-scientist, models.read, squad\n"
            "p, data-scientist models.write squad\n");
  std::vector<std::string> argv = {absl::StrCat(testing::BinDir(), "/fabrique-registry"),
                                   "--listen_host=127.0.0.1", "--port=0", "--metrics_port=0",
                                   absl::StrCat("--data_dir=", tmp.Sub("data"))};
  for (std::string& flag : testing::SecureServerFlags(identity, "registry")) {
    argv.push_back(std::move(flag));
  }
  const std::string log_path = tmp.Sub("registry.log");
  auto process = cli::ChildProcess::Spawn(argv, log_path);
  REQUIRE(process.ok());
  const std::optional<int> code = (*process)->Wait(absl::Seconds(30));
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  const std::string log = ReadFile(log_path);
  INFO(log);
  CHECK(absl::StrContains(log, identity.policy_path()));
  CHECK(absl::StrContains(log, "line 3"));
  CHECK_FALSE(absl::StrContains(log, "\"event\":\"server_started\""));
}

TEST_CASE("a policy that fails to reload keeps the one in force, and is counted") {
  TestIdentity identity;
  TempDir tmp;
  KillableService registry("fabrique-registry", tmp.Sub("data"), tmp.Sub("registry.log"), {},
                           identity);
  const std::vector<std::string> risk = {"risk:data-scientist"};
  const std::vector<std::string> marketing = {"marketing:data-scientist"};
  {
    auto stub = v1::ModelRegistry::NewStub(registry.channel());
    auto context = testing::TokenContext(identity, "dana", risk, absl::Seconds(10));
    v1::CreateModelRequest create;
    create.mutable_model()->set_name("churn");
    create.mutable_model()->set_owner_squad("risk");
    v1::Model model;
    const grpc::Status created = stub->CreateModel(context.get(), create, &model);
    INFO(created.error_message());
    REQUIRE(created.ok());
  }
  const std::string metric = "fabrique_registry_policy_reload_failures_total";
  REQUIRE(Metric(registry, metric) == 0);
  REQUIRE(CanI(identity, registry, "dana", risk, "models.read", "risk"));
  REQUIRE_FALSE(CanI(identity, registry, "mia", marketing, "models.read", "risk"));
  REQUIRE(GetModel(identity, registry, "mia", marketing, "churn") ==
          grpc::StatusCode::PERMISSION_DENIED);

  // An edit that would let mia read risk's models, with a typo further down: none of it applies.
  const std::string grant = "g, user:mia, risk:data-scientist\n";
  WriteFile(identity.policy_path(),
            auth::DefaultPolicyText("root") + grant + "p, sre, models.read\n");
  // The file is looked at on calls, at most every 2 s.
  CHECK(testing::PollUntil(
      [&] {
        CanI(identity, registry, "mia", marketing, "models.read", "risk");
        return Metric(registry, metric) == 1;
      },
      absl::Seconds(30)));
  CHECK(Metric(registry, metric) == 1);
  CHECK(CanI(identity, registry, "dana", risk, "models.read", "risk"));
  CHECK_FALSE(CanI(identity, registry, "mia", marketing, "models.read", "risk"));
  CHECK(GetModel(identity, registry, "mia", marketing, "churn") ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(GetModel(identity, registry, "dana", risk, "churn") == grpc::StatusCode::OK);
  CHECK(absl::StrContains(ReadFile(registry.log_path()), "line "));

  // The typo fixed, the edit applies: the file was watched all along.
  WriteFile(identity.policy_path(), auth::DefaultPolicyText("root") + grant);
  CHECK(testing::PollUntil(
      [&] { return CanI(identity, registry, "mia", marketing, "models.read", "risk"); },
      absl::Seconds(30)));
  CHECK(GetModel(identity, registry, "mia", marketing, "churn") == grpc::StatusCode::OK);
  CHECK(Metric(registry, metric) == 1);
}

TEST_CASE("a client certificate from another CA is refused, and the server keeps serving") {
  TestIdentity identity;
  TestIdentity stranger;  // Another authority: another CA.
  TempDir tmp;
  KillableService features("fabrique-features", tmp.Sub("data"), tmp.Sub("features.log"), {},
                           identity);
  client::ChannelOptions options;
  options.target = features.target();
  options.tls.ca_path = identity.authority().ca_cert_path();          // It trusts the server...
  options.tls.cert_path = stranger.authority().cert_path("trainer");  // ...but is not trusted.
  options.tls.key_path = stranger.authority().key_path("trainer");
  options.share_connections = false;
  auto channel = client::MakeChannel(options);
  REQUIRE(channel.ok());
  auto stub = v1::FeatureStore::NewStub(*channel);
  auto context = testing::TokenContext(identity, "root", {}, absl::Seconds(5));
  v1::ListEntitiesRequest request;
  v1::ListEntitiesResponse response;
  const grpc::Status refused = stub->ListEntities(context.get(), request, &response);
  INFO(refused.error_message());
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);

  // The same server still answers a caller it trusts, on a new connection.
  auto trusted =
      v1::FeatureStore::NewStub(testing::SecureChannel(identity, features.target(), false));
  auto ok_context = testing::TokenContext(identity, "root", {}, absl::Seconds(5));
  const grpc::Status answered = trusted->ListEntities(ok_context.get(), request, &response);
  INFO(answered.error_message());
  CHECK(answered.ok());
}

}  // namespace
}  // namespace fabrique
