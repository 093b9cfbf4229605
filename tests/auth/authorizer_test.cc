// One call's decision: methods without a rule, squads from fields and owners, platform-wide and
// any-squad calls, and delegation (both the service and the user are checked).

#include "libs/auth/authorizer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::auth {
namespace {

using Strings = std::vector<std::string>;

constexpr char kPolicy[] =
    "p, data-scientist, models.read, squad\n"
    "p, data-scientist, models.write, squad\n"
    "p, platform-admin, *, squad\n"
    "p, trainer, models.write, squad\n"
    "p, trainer, models.read, squad\n"
    "p, trainer, auth.delegate, squad\n"
    "p, monitor, models.write, squad\n"
    "g, user:alice, *:platform-admin\n"
    "g, service:trainer, *:trainer\n"
    "g, service:monitor, *:monitor\n"
    "g, group:{squad}:{role}, {squad}:{role}\n";

std::shared_ptr<const Policy> ParsePolicy(absl::string_view text) {
  absl::StatusOr<Policy> policy = Policy::Parse(text, PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  return std::make_shared<const Policy>(*std::move(policy));
}

const OwnerLookup kOwners = [](absl::string_view kind,
                               absl::string_view name) -> absl::StatusOr<std::string> {
  if (kind == kModel && name == "scorecard") return std::string("risk");
  if (kind == kModel && name == "detector") return std::string("fraud");
  return absl::NotFoundError(absl::StrCat(kind, " '", name, "' not found"));
};

v1::RegisterVersionRequest RegisterIn(const std::string& model) {
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model(model);
  return request;
}

const Caller kBob{{"user:bob", {"risk:data-scientist"}}, std::nullopt};

struct Fixture {
  std::shared_ptr<const Policy> policy = ParsePolicy(kPolicy);
  Authorizer authorizer{[this] { return policy; }};
};

TEST_CASE("a method without a rule is refused") {
  Fixture f;
  const absl::Status status =
      f.authorizer.Check(kBob, "/fabrique.v1.ModelRegistry/Drop", v1::GetModelRequest()).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() ==
        "/fabrique.v1.ModelRegistry/Drop has no access rule, so no one may "
        "call it");
}

TEST_CASE("a call on a resource is checked in its owner's squad") {
  Fixture f;
  const char* method = "/fabrique.v1.ModelRegistry/RegisterVersion";
  const absl::StatusOr<Access> access =
      f.authorizer.Check(kBob, method, RegisterIn("scorecard"), kOwners);
  REQUIRE(access.ok());
  CHECK(access->squad == "risk");
  CHECK(access->squads == Strings{"risk"});
  CHECK(access->rule->permission == "models.write");
  REQUIRE(access->reasons.size() == 1);

  absl::Status status = f.authorizer.Check(kBob, method, RegisterIn("detector"), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "user:bob lacks models.write in squad fraud (holds: no role)");

  status = f.authorizer.Check(kBob, method, RegisterIn("ghost"), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  status = f.authorizer.Check(kBob, method, RegisterIn(""), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "version.model is required: it names the model the call acts on");
}

TEST_CASE("a platform-wide call needs the permission in every squad") {
  Fixture f;
  const char* method = "/fabrique.v1.ModelRegistry/CollectGarbage";
  const absl::Status status =
      f.authorizer.Check(kBob, method, v1::CollectGarbageRequest()).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "user:bob lacks models.admin in every squad (holds: no role)");
  const absl::StatusOr<Access> access =
      f.authorizer.Check({{"user:alice", {}}, std::nullopt}, method, v1::CollectGarbageRequest());
  REQUIRE(access.ok());
  CHECK(access->squad == "*");
}

TEST_CASE("an any-squad call gives the squads results keep to") {
  Fixture f;
  const char* method = "/fabrique.v1.ModelRegistry/ListModels";
  const Caller two_squads{{"user:bob", {"risk:data-scientist", "fraud:data-scientist"}}, {}};
  absl::StatusOr<Access> access = f.authorizer.Check(two_squads, method, v1::ListModelsRequest());
  REQUIRE(access.ok());
  CHECK(access->squad.empty());
  CHECK(access->squads == Strings{"fraud", "risk"});
  access = f.authorizer.Check({{"user:alice", {}}, {}}, method, v1::ListModelsRequest());
  REQUIRE(access.ok());
  CHECK(access->squads == Strings{"*"});
  const absl::Status status =
      f.authorizer.Check({{"user:eve", {}}, {}}, method, v1::ListModelsRequest()).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "user:eve lacks models.read in any squad");
}

TEST_CASE("a delegated call checks the service's auth.delegate, then the service and the user") {
  Fixture f;
  const char* method = "/fabrique.v1.ModelRegistry/RegisterVersion";
  const Caller trainer_for_bob{{"service:trainer", {}}, kBob.subject};
  const absl::StatusOr<Access> access =
      f.authorizer.Check(trainer_for_bob, method, RegisterIn("scorecard"), kOwners);
  REQUIRE(access.ok());
  CHECK(access->reasons.size() == 3);

  // The service may, the user may not.
  absl::Status status =
      f.authorizer.Check(trainer_for_bob, method, RegisterIn("detector"), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "user:bob lacks models.write in squad fraud (holds: no role)");

  // A service without auth.delegate may not act for anyone.
  const Caller monitor_for_bob{{"service:monitor", {}}, kBob.subject};
  status = f.authorizer.Check(monitor_for_bob, method, RegisterIn("scorecard"), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "service:monitor lacks auth.delegate in squad risk (holds: monitor)");

  // Only services delegate, whatever a user's roles.
  const Caller alice_for_bob{{"user:alice", {}}, kBob.subject};
  status = f.authorizer.Check(alice_for_bob, method, RegisterIn("scorecard"), kOwners).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() == "user:alice may not act on behalf of user:bob: only services delegate");
}

TEST_CASE("a delegated any-squad call keeps to squads both the service and the user hold") {
  Fixture f;
  f.policy = ParsePolicy(std::string(kPolicy) + "g, service:tower, risk:trainer\n");
  const char* method = "/fabrique.v1.ModelRegistry/ListModels";
  const Caller tower_for_many{{"service:tower", {}},
                              Subject{"user:bob", {"risk:data-scientist", "fraud:data-scientist"}}};
  absl::StatusOr<Access> access =
      f.authorizer.Check(tower_for_many, method, v1::ListModelsRequest());
  REQUIRE(access.ok());
  CHECK(access->squads == Strings{"risk"});

  const Caller tower_for_fraud{{"service:tower", {}},
                               Subject{"user:bob", {"fraud:data-scientist"}}};
  const absl::Status status =
      f.authorizer.Check(tower_for_fraud, method, v1::ListModelsRequest()).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(status.message() ==
        "user:bob holds models.read only in squads where the service acting "
        "for it may not act: fraud");
}

TEST_CASE("each check reads the policy in force") {
  Fixture f;
  const char* method = "/fabrique.v1.ModelRegistry/RegisterVersion";
  REQUIRE(f.authorizer.Check(kBob, method, RegisterIn("scorecard"), kOwners).ok());
  f.policy = ParsePolicy("g, user:bob, risk:data-scientist\n");
  CHECK(f.authorizer.Check(kBob, method, RegisterIn("scorecard"), kOwners).status().code() ==
        absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace fabrique::auth
