// A service follows the tower's role bindings: a member added at the tower may act at the
// service within seconds and is refused once removed; the last set is kept when the tower stops
// and read back at a restart while it is down; a privileged role is never granted that way.

#include "libs/server/bindings_follower.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/tower.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "libs/auth/default_policy.h"
#include "libs/auth/policy_store.h"
#include "libs/client/channel.h"
#include "libs/core/file_io.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

// A tower that serves only WatchRoleBindings, from a set the test edits.
class FakeTower final : public v1::Tower::Service {
 public:
  void Bind(const std::string& user, const std::string& role, const std::string& squad) {
    absl::MutexLock lock(&mu_);
    v1::RoleBinding* binding = bindings_.add_bindings();
    binding->set_subject("user:" + user);
    binding->set_role(role);
    binding->set_squad(squad);
    bindings_.set_revision(bindings_.revision() + 1);
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    bindings_.clear_bindings();
    bindings_.set_revision(bindings_.revision() + 1);
  }

  grpc::Status WatchRoleBindings(grpc::ServerContext* context,
                                 const v1::WatchRoleBindingsRequest* request,
                                 grpc::ServerWriter<v1::RoleBindings>* writer) override {
    int64_t sent = request->after_revision();
    bool first = sent <= 0;
    while (!context->IsCancelled()) {
      v1::RoleBindings now;
      {
        absl::MutexLock lock(&mu_);
        auto changed = [this, sent]()
                           ABSL_SHARED_LOCKS_REQUIRED(mu_) { return bindings_.revision() > sent; };
        if (!first) mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(100));
        if (!first && bindings_.revision() <= sent) continue;
        now = bindings_;
      }
      if (!writer->Write(now)) break;
      sent = now.revision();
      first = false;
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  v1::RoleBindings bindings_ ABSL_GUARDED_BY(mu_);
};

struct RunningTower {
  explicit RunningTower(int port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                             &bound);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~RunningTower() { Stop(); }
  void Stop() {
    if (server == nullptr) return;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server.reset();
  }
  FakeTower service;
  int bound = 0;
  std::unique_ptr<grpc::Server> server;
};

constexpr char kPolicy[] =
    "p, data-scientist, models.read, squad\n"
    "p, sre, models.read, *\n"
    "p, registry, models.read, squad\n"
    "g, service:registry, *:registry\n"
    "g, user:root, risk:data-scientist\n";

struct Harness {
  Harness() {
    REQUIRE(core::WriteFileAtomically(dir.Sub("policy.csv"), kPolicy, 0600).ok());
    auth::PolicyStore::Options options;
    options.path = dir.Sub("policy.csv");
    options.reload_check_interval = absl::Milliseconds(1);
    policy = *auth::PolicyStore::Create(std::move(options));
  }

  std::unique_ptr<BindingsFollower> Follow(int port) {
    BindingsFollowerOptions options;
    options.service_name = "registry";
    options.channel = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", port));
    options.policy = policy.get();
    options.cache_path = dir.Sub("data/auth/tower_bindings.pb");
    options.initial_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<BindingsFollower>> follower =
        BindingsFollower::Start(std::move(options), &registry);
    REQUIRE(follower.ok());
    return *std::move(follower);
  }

  bool Allowed(const std::string& user, const std::string& squad) {
    return policy->Current()->Decide({"user:" + user, {}}, "models.read", squad).allowed;
  }
  bool AllowedSoon(const std::string& user, const std::string& squad, bool expected) {
    return testing::PollUntil([&] { return Allowed(user, squad) == expected; }, absl::Seconds(5));
  }

  testing::TempDir dir;
  prometheus::Registry registry;
  std::unique_ptr<auth::PolicyStore> policy;
};

TEST_CASE("A member added at the tower is allowed, and refused once removed", "[bindings]") {
  Harness h;
  RunningTower tower;
  auto follower = h.Follow(tower.bound);
  CHECK_FALSE(h.Allowed("alice", "risk"));
  tower.service.Bind("alice", "data-scientist", "risk");
  CHECK(h.AllowedSoon("alice", "risk", true));
  CHECK_FALSE(h.Allowed("alice", "fraud"));
  // The file's bindings stay: the tower only adds.
  CHECK(h.Allowed("root", "risk"));
  tower.service.Clear();
  CHECK(h.AllowedSoon("alice", "risk", false));
  CHECK(h.Allowed("root", "risk"));
  CHECK(follower->revision() == 2);
}

TEST_CASE("The bindings are kept when the tower stops, and read back at a restart", "[bindings]") {
  Harness h;
  int port = 0;
  {
    RunningTower tower;
    port = tower.bound;
    auto follower = h.Follow(port);
    tower.service.Bind("alice", "data-scientist", "risk");
    REQUIRE(h.AllowedSoon("alice", "risk", true));
    tower.Stop();
    // Reconnecting fails and is counted; the last set stays in force.
    CHECK(testing::PollUntil([&] { return follower->failures() >= 2; }, absl::Seconds(5)));
    CHECK(h.Allowed("alice", "risk"));
  }
  // A restart while the tower is down: a fresh policy, then the cached set.
  auth::PolicyStore::Options options;
  options.path = h.dir.Sub("policy.csv");
  h.policy = *auth::PolicyStore::Create(std::move(options));
  CHECK_FALSE(h.Allowed("alice", "risk"));
  auto follower = h.Follow(port);
  CHECK(h.Allowed("alice", "risk"));
  CHECK(follower->revision() == 1);
}

TEST_CASE("An edited policy file keeps the followed bindings", "[bindings]") {
  Harness h;
  RunningTower tower;
  auto follower = h.Follow(tower.bound);
  tower.service.Bind("alice", "data-scientist", "risk");
  REQUIRE(h.AllowedSoon("alice", "risk", true));
  // The file no longer binds root, and grants data-scientists nothing: the grants are the
  // file's, the followed bindings stay.
  REQUIRE(core::WriteFileAtomically(h.dir.Sub("policy.csv"),
                                    "p, data-scientist, models.write, squad\n", 0600)
              .ok());
  CHECK(h.AllowedSoon("root", "risk", false));
  CHECK_FALSE(h.Allowed("alice", "risk"));
  CHECK(h.policy->Current()->Decide({"user:alice", {}}, "models.write", "risk").allowed);
}

TEST_CASE("A followed binding never grants a service role or a role across squads", "[bindings]") {
  Harness h;
  RunningTower tower;
  auto follower = h.Follow(tower.bound);
  tower.service.Bind("mallory", "registry", "risk");
  tower.service.Bind("mallory", "sre", "risk");
  tower.service.Bind("bob", "data-scientist", "fraud");
  REQUIRE(h.AllowedSoon("bob", "fraud", true));
  CHECK_FALSE(h.Allowed("mallory", "risk"));
}

TEST_CASE("Every service but the tower may follow the bindings under the default policy",
          "[bindings]") {
  absl::StatusOr<auth::Policy> policy =
      auth::Policy::Parse(auth::DefaultPolicyText("admin"), auth::PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  for (const char* service : {"features", "trainer", "inference", "monitor", "registry"}) {
    INFO(service);
    CHECK(policy->Decide({absl::StrCat("service:", service), {}}, "bindings.read", "*").allowed);
  }
  CHECK_FALSE(
      policy->Decide({"user:someone", {"risk:data-scientist"}}, "bindings.read", "*").allowed);
}

}  // namespace
}  // namespace fabrique::server
