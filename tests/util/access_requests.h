#ifndef FABRIQUE_TESTS_UTIL_ACCESS_REQUESTS_H_
#define FABRIQUE_TESTS_UTIL_ACCESS_REQUESTS_H_

// Who may call what, written once for the two kinds of access test that check it: the services'
// in-process adapter tests (tests/services/*_access_test.cc) and the role-by-method matrix run
// against the real binaries (tests/integration/access_matrix_test.cc). For every method of the
// feature store and the registry: the request it is called with on squad risk's resources, a
// caller whose role holds the method's permission and one whose role does not. Each test runs
// the same cases through its own server and checks what its layer promises.

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "libs/auth/method_table.h"

namespace fabrique::testing {

// A token's groups, e.g. {"risk:data-scientist"}; an empty list holds no role anywhere.
using Groups = std::vector<std::string>;

// A context whose token makes `user` a member of `groups`, as the server under test trusts it.
using ContextFor = std::function<std::unique_ptr<grpc::ClientContext>(const std::string& user,
                                                                      const Groups& groups)>;

// A call on `Stub` with a given context.
template <typename Stub>
using StubCall = std::function<grpc::Status(Stub&, grpc::ClientContext*)>;

// A unary call of `method` with `request`, its response dropped.
template <typename Stub, typename Request, typename Response>
StubCall<Stub> Unary(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                     Request request) {
  return [method, request](Stub& stub, grpc::ClientContext* context) {
    Response out;
    return (stub.*method)(context, request, &out);
  };
}

// A server stream of `method`, read to its end, or with `first_only` until its first message,
// which answers the call, after which the call is cancelled (a stream that may stay open).
template <typename Stub, typename Request, typename Response>
StubCall<Stub> ServerStream(std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(
                                grpc::ClientContext*, const Request&),
                            Request request, bool first_only) {
  return [method, request, first_only](Stub& stub, grpc::ClientContext* context) {
    auto reader = (stub.*method)(context, request);
    Response part;
    while (reader->Read(&part)) {
      if (!first_only) continue;
      context->TryCancel();
      return grpc::Status::OK;
    }
    return reader->Finish();
  };
}

// A server stream read to its end.
template <typename Stub, typename Request, typename Response>
StubCall<Stub> ReadAll(std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(
                           grpc::ClientContext*, const Request&),
                       Request request) {
  return ServerStream(method, std::move(request), /*first_only=*/false);
}

// A server stream that may stay open, answered by its first message.
template <typename Stub, typename Request, typename Response>
StubCall<Stub> FirstMessage(std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(
                                grpc::ClientContext*, const Request&),
                            Request request) {
  return ServerStream(method, std::move(request), /*first_only=*/true);
}

// One method of `Stub`'s service: its call on squad risk's resources, a caller that may make it
// (`may_user` in `may`) and one that may not (in `may_not`). Run the refused caller first: the
// allowed one then finds the state the case was written for.
template <typename Stub>
struct AccessCase {
  std::string method;
  StubCall<Stub> call;
  Groups may;
  Groups may_not;
  std::string may_user = "mia";
};

// What a caller whose role holds a method's permission must be answered.
enum class Allowed {
  kOk,          // OK: the in-process tests, whose cases are written to succeed.
  kNotRefused,  // Anything but PERMISSION_DENIED or UNAUTHENTICATED: the binaries' matrix.
};

// Checks that `cases` cover each method of `methods` once, then runs them in order through
// `stub`: each refused to nils in `may_not` (PERMISSION_DENIED naming the method's permission),
// then answered as `allowed` says to `may_user` in `may`. `as` makes the callers' contexts.
template <typename Stub>
void CheckAccessCases(Stub& stub, const std::vector<AccessCase<Stub>>& cases,
                      const auth::MethodTable& methods, const ContextFor& as,
                      Allowed allowed = Allowed::kOk) {
  REQUIRE(cases.size() == methods.size());
  for (const auto& [name, rule] : methods) {
    INFO(name << " has a case");
    CHECK(std::count_if(cases.begin(), cases.end(), [&name = name](const AccessCase<Stub>& c) {
            return c.method == name;
          }) == 1);
  }
  for (const AccessCase<Stub>& c : cases) {
    const std::string& permission = methods.at(c.method).permission;
    {
      INFO(c.method << " as nils [" << absl::StrJoin(c.may_not, ",") << "], refused "
                    << permission);
      const grpc::Status refused = c.call(stub, as("nils", c.may_not).get());
      INFO(refused.error_code() << ": " << refused.error_message());
      CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      CHECK(absl::StrContains(refused.error_message(), permission));
    }
    INFO(c.method << " as " << c.may_user << " [" << absl::StrJoin(c.may, ",") << "], allowed");
    const grpc::Status answered = c.call(stub, as(c.may_user, c.may).get());
    INFO(answered.error_code() << ": " << answered.error_message());
    if (allowed == Allowed::kOk) {
      CHECK(answered.ok());
    } else {
      CHECK(answered.error_code() != grpc::StatusCode::PERMISSION_DENIED);
      CHECK(answered.error_code() != grpc::StatusCode::UNAUTHENTICATED);
    }
  }
}

// ---- Feature store ----

// What the feature store's cases read and write: entity "customer" and group "tx" (amount
// float, country string) of squad risk, defined by the test, and a dataset read from tx.
struct FeatureStoreAccess {
  std::string dataset_id;
  v1::FeatureGroupSpec tx;   // Group tx as stored: ApplyFeatureGroup re-applies it unchanged.
  v1::IngestRequest ingest;  // One batch of tx rows for c1, in the server's time.
  absl::Time label_time;     // When BuildTrainingSet's one label event of c1 happened.
};

// Entity "customer" (join key customer_id) of squad risk.
v1::ApplyEntityRequest RiskCustomer();

// One Ingest stream of `batch`.
grpc::Status IngestBatch(v1::FeatureStore::Stub& stub, grpc::ClientContext* context,
                         const v1::IngestRequest& batch);

// A summary-only training set of tx:amount joined to one label event of c1 at `label_time`; the
// dataset in `out` when given.
grpc::Status BuildAmounts(v1::FeatureStore::Stub& stub, grpc::ClientContext* context,
                          absl::Time label_time, v1::Dataset* out = nullptr);

// Every method of the feature store, reads first.
std::vector<AccessCase<v1::FeatureStore::Stub>> FeatureStoreAccessCases(
    const FeatureStoreAccess& access);

// ---- Model registry ----

// SHA-256 of "abc" (FIPS 180-2): the artifact the registry's versions reference.
inline constexpr char kAbcSha256[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

// Uploads the artifact "abc".
grpc::Status UploadAbc(v1::ModelRegistry::Stub& stub, grpc::ClientContext* context);

// A version of `model` holding the artifact "abc", claiming trainer run `run` when not empty.
v1::RegisterVersionRequest VersionOf(const std::string& model, const std::string& run = "");

// A policy that moves `alias` of `model` only with one design authority's approval.
v1::SetPromotionPolicyRequest GatedPolicy(const std::string& model, const std::string& alias);

// The pending promotion requests of model "scoring": to production and to canary.
struct PendingPromotions {
  std::string production;
  std::string canary;
};

// Model "scoring" of squad risk: versions 1 to 3 of "abc", 1 as production and old, production
// and canary gated by a design authority, a pending request to each for version 3 (made by dana,
// a data scientist of risk), and standard "card" for an entity no model scores. `as` makes the
// callers' contexts ("root" is the platform admin). Fails the test when a step fails.
PendingPromotions SeedScoring(v1::ModelRegistry::Stub& stub, const ContextFor& as);

// Every method of the registry on scoring's records, in the order they must run: reads before
// the writes that change what they read, archiving before deleting, approving and rejecting
// last. CreateModel names a new model each call.
std::vector<AccessCase<v1::ModelRegistry::Stub>> RegistryAccessCases(
    const PendingPromotions& pending);

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_UTIL_ACCESS_REQUESTS_H_
