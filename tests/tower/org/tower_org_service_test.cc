// The organisation's calls through gRPC (the tower's adapter over a real Organisation, under an
// insecure guard): codes mapped once, and a service's follower fed by the real
// WatchRoleBindings stream, which ends when the tower stops.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/tower.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "libs/auth/policy_store.h"
#include "libs/client/channel.h"
#include "libs/core/file_io.h"
#include "libs/server/access.h"
#include "libs/server/bindings_follower.h"
#include "org_test_util.h"
#include "services/tower/tower_service.h"

namespace fabrique::tower {
namespace {

using org_test::OrgHarness;

struct TowerHarness {
  TowerHarness() {
    server::AccessOptions options;
    options.service_name = "tower";
    options.insecure = true;
    guard = *server::Access::Create(std::move(options));
    services::TowerParts parts;
    parts.organisation = h.org.get();
    service = std::make_unique<services::TowerService>(
        server::ServiceAccess(guard.get(), v1::Tower::service_full_name(), nullptr), parts);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service.get());
    server = builder.BuildAndStart();
    channel = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", port));
    stub = v1::Tower::NewStub(channel);
  }
  ~TowerHarness() { Stop(); }
  void Stop() {
    if (server == nullptr) return;
    h.org->Interrupt();
    server->Shutdown();
    server.reset();
  }

  OrgHarness h;
  std::unique_ptr<server::Access> guard;
  std::unique_ptr<services::TowerService> service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Tower::Stub> stub;
};

TEST_CASE("The organisation's calls answer with the core's codes", "[org][service]") {
  TowerHarness t;
  grpc::ClientContext onboard_context;
  v1::OnboardEntityRequest onboard;
  onboard.mutable_entity()->set_id("retail");
  onboard.add_squads()->set_id("risk");
  v1::Approval approval;
  REQUIRE(t.stub->OnboardEntity(&onboard_context, onboard, &approval).ok());
  CHECK(approval.kind() == v1::APPROVAL_KIND_ENTITY_ONBOARDING);
  REQUIRE(t.h.org->onboarding_handler()->Apply(approval).ok());

  grpc::ClientContext get_context;
  v1::GetOrgEntityRequest get;
  get.set_id("retail");
  v1::OrgEntity entity;
  REQUIRE(t.stub->GetEntity(&get_context, get, &entity).ok());
  CHECK(entity.squads(0) == "risk");

  grpc::ClientContext create_context;
  v1::CreateSquadRequest create;
  create.mutable_squad()->set_id("pricing");
  create.mutable_squad()->set_entity("nowhere");
  v1::Squad squad;
  CHECK(t.stub->CreateSquad(&create_context, create, &squad).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext add_context;
  v1::AddSquadMemberRequest add;
  add.set_squad("risk");
  *add.mutable_member() = OrgHarness::Member("alice", {"data-scientist"});
  add.set_etag("41");
  CHECK(t.stub->AddSquadMember(&add_context, add, &squad).error_code() ==
        grpc::StatusCode::ABORTED);

  grpc::ClientContext list_context;
  v1::ListSquadsRequest list;
  list.set_entity("retail");
  v1::ListSquadsResponse listed;
  REQUIRE(t.stub->ListSquads(&list_context, list, &listed).ok());
  REQUIRE(listed.squads_size() == 1);
  CHECK(listed.squads(0).id() == "risk");
}

TEST_CASE("A service follows the tower's members through WatchRoleBindings", "[org][service]") {
  TowerHarness t;
  t.h.Onboard("retail", {"risk"});
  REQUIRE(core::WriteFileAtomically(t.h.dir.Sub("policy.csv"),
                                    "p, data-scientist, models.read, squad\n", 0600)
              .ok());
  auth::PolicyStore::Options policy_options;
  policy_options.path = t.h.dir.Sub("policy.csv");
  std::unique_ptr<auth::PolicyStore> policy = *auth::PolicyStore::Create(policy_options);
  server::BindingsFollowerOptions options;
  options.service_name = "registry";
  options.channel = t.channel;
  options.policy = policy.get();
  options.initial_backoff = absl::Milliseconds(20);
  prometheus::Registry registry;
  auto follower = *server::BindingsFollower::Start(std::move(options), &registry);
  auto allowed = [&] {
    return policy->Current()->Decide({"user:alice", {}}, "models.read", "risk").allowed;
  };

  grpc::ClientContext add_context;
  v1::AddSquadMemberRequest add;
  add.set_squad("risk");
  *add.mutable_member() = OrgHarness::Member("alice", {"data-scientist"});
  v1::Squad squad;
  REQUIRE(t.stub->AddSquadMember(&add_context, add, &squad).ok());
  CHECK(testing::PollUntil(allowed, absl::Seconds(5)));

  grpc::ClientContext remove_context;
  v1::RemoveSquadMemberRequest remove;
  remove.set_squad("risk");
  remove.set_user("alice");
  remove.set_etag(squad.etag());
  REQUIRE(t.stub->RemoveSquadMember(&remove_context, remove, &squad).ok());
  CHECK(testing::PollUntil([&] { return !allowed(); }, absl::Seconds(5)));
  CHECK(follower->revision() == t.h.org->bindings_revision());

  // Stopping the tower ends the stream promptly; the follower keeps the set and retries.
  const absl::Time stop_start = absl::Now();
  t.Stop();
  CHECK(absl::Now() - stop_start < absl::Seconds(5));
  CHECK(testing::PollUntil([&] { return follower->failures() >= 1; }, absl::Seconds(5)));
}

}  // namespace
}  // namespace fabrique::tower
