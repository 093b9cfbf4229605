// Who may do what on the trainer, through its adapter behind a real access guard: a call without
// a token is UNAUTHENTICATED; submitting needs runs.submit in the squad the run trains for, which
// defaults to the submitter's only such squad; another squad's run can be neither read, watched
// nor cancelled; lists keep to the squads the caller may read; a run recorded before runs had
// squads is reached only platform-wide; a service acting for a user is checked with the user;
// the x-fabrique-* headers of old change nothing.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/client/call_context.h"
#include "libs/server/access.h"
#include "tests/services/trainer_test_server.h"
#include "tests/training/fake_ports.h"

namespace fabrique::services {
namespace {

using trainer_test::Adapter;
using trainer_test::kDana;
using trainer_test::kErin;
using trainer_test::kPatience;
using training::testing::TrainableSpec;

// Checks `status` is `code` and its message names each of `words`.
void CheckRefused(const grpc::Status& status, grpc::StatusCode code,
                  const std::vector<std::string>& words) {
  INFO(status.error_message());
  CHECK(status.error_code() == code);
  for (const std::string& word : words) CHECK(absl::StrContains(status.error_message(), word));
}

std::unique_ptr<grpc::ClientContext> NoToken() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kPatience));
  return context;
}

v1::GetRunRequest GetOf(const std::string& run_id) {
  v1::GetRunRequest request;
  request.set_run_id(run_id);
  return request;
}

v1::CancelRunRequest CancelOf(const std::string& run_id) {
  v1::CancelRunRequest request;
  request.set_run_id(run_id);
  return request;
}

TEST_CASE("A call without a token is UNAUTHENTICATED, whatever headers it asserts",
          "[trainer][access]") {
  Adapter a;
  v1::Run run;
  CheckRefused(a.Submit(NoToken(), TrainableSpec(), &run, "risk"),
               grpc::StatusCode::UNAUTHENTICATED, {"no credentials"});
  // The headers callers once named themselves with are not read.
  std::unique_ptr<grpc::ClientContext> asserted = NoToken();
  asserted->AddMetadata("x-fabrique-user", "dana");
  asserted->AddMetadata("x-fabrique-roles", "platform-admin");
  asserted->AddMetadata("x-fabrique-squad", "risk");
  CheckRefused(a.Submit(std::move(asserted), TrainableSpec(), &run, "risk"),
               grpc::StatusCode::UNAUTHENTICATED, {"no credentials"});
  v1::ListRunsResponse listed;
  CHECK(a.stub->ListRuns(NoToken().get(), v1::ListRunsRequest(), &listed).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(a.stub->GetRun(NoToken().get(), GetOf("any"), &run).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  // A token that is not one.
  std::unique_ptr<grpc::ClientContext> forged = NoToken();
  forged->AddMetadata("authorization", "Bearer not-a-jwt");
  CHECK(a.Submit(std::move(forged), TrainableSpec(), &run, "risk").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(a.datasets.contexts().empty());  // Nothing reached the core.
}

TEST_CASE("Submitting needs runs.submit in the squad the run trains for", "[trainer][access]") {
  Adapter a;
  v1::Run run;
  // Dana trains for risk, not fraud.
  CheckRefused(a.Submit(a.Dana(), TrainableSpec(), &run, "fraud"),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.submit", "fraud"});
  // A product owner of risk reads its runs but does not train.
  CheckRefused(a.Submit(a.As("pia", {"risk:product-owner"}), TrainableSpec(), &run, "risk"),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.submit", "risk"});
  CHECK(a.runs->List({})->runs_size() == 0);
  CHECK(a.datasets.contexts().empty());  // Refused before the feature store was asked.
  REQUIRE(a.Submit(a.Dana(), TrainableSpec(), &run, "risk").ok());
  CHECK(run.squad() == "risk");
}

TEST_CASE("A submission naming no squad trains for the submitter's only one", "[trainer][access]") {
  Adapter a;
  v1::Run run;
  // Dana's one squad; the asserted headers of old change neither who she is nor where.
  std::unique_ptr<grpc::ClientContext> dana = a.Dana();
  dana->AddMetadata("x-fabrique-user", "mallory");
  dana->AddMetadata("x-fabrique-squad", "fraud");
  REQUIRE(a.Submit(std::move(dana), TrainableSpec(), &run).ok());
  CHECK(run.squad() == "risk");
  CHECK(run.submitted_by().subject() == "dana");
  CHECK(run.submitted_by().squad() == "risk");
  // Only the squads holding runs.submit count: reading fraud's runs does not make it a choice.
  REQUIRE(
      a.Submit(a.As("sam", {"risk:data-scientist", "fraud:product-owner"}), TrainableSpec(), &run)
          .ok());
  CHECK(run.squad() == "risk");
  // Several squads: the caller must say which.
  CheckRefused(
      a.Submit(a.As("sam", {"risk:data-scientist", "fraud:data-scientist"}), TrainableSpec(), &run),
      grpc::StatusCode::INVALID_ARGUMENT, {"several squads (fraud, risk)", "--squad"});
  REQUIRE(a.Submit(a.As("sam", {"risk:data-scientist", "fraud:data-scientist"}), TrainableSpec(),
                   &run, "fraud")
              .ok());
  CHECK(run.squad() == "fraud");
  // An admin holds it in every squad: no default either.
  CheckRefused(a.Submit(a.As("root", {}), TrainableSpec(), &run),
               grpc::StatusCode::INVALID_ARGUMENT, {"every squad", "--squad"});
  // No squad at all.
  CheckRefused(a.Submit(a.As("pia", {"risk:product-owner"}), TrainableSpec(), &run),
               grpc::StatusCode::PERMISSION_DENIED, {"user:pia", "runs.submit", "any squad"});
}

TEST_CASE("Another squad's run can be neither read, watched nor cancelled", "[trainer][access]") {
  Adapter a;
  // Dana's run holds the one worker in its first step, so Erin's stays queued.
  a.datasets.gate.Close();
  v1::Run danas, erins;
  REQUIRE(a.Submit(a.Dana(), TrainableSpec(), &danas).ok());
  REQUIRE(a.Submit(a.As("erin", kErin), TrainableSpec(), &erins).ok());
  REQUIRE(erins.squad() == "fraud");
  v1::Run answer;
  CheckRefused(a.stub->GetRun(a.Dana().get(), GetOf(erins.run_id()), &answer),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.read", "fraud"});
  CheckRefused(a.stub->CancelRun(a.Dana().get(), CancelOf(erins.run_id()), &answer),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.cancel", "fraud"});
  v1::WatchRunRequest watch;
  watch.set_run_id(erins.run_id());
  std::unique_ptr<grpc::ClientContext> watching = a.Dana();
  auto reader = a.stub->WatchRun(watching.get(), watch);
  v1::RunEvent event;
  CHECK_FALSE(reader->Read(&event));
  CheckRefused(reader->Finish(), grpc::StatusCode::PERMISSION_DENIED, {"runs.read", "fraud"});
  // A product owner of fraud reads it, but may not cancel it.
  REQUIRE(a.stub->GetRun(a.As("pia", {"fraud:product-owner"}).get(), GetOf(erins.run_id()), &answer)
              .ok());
  CHECK(answer.run_id() == erins.run_id());
  CheckRefused(a.stub->CancelRun(a.As("pia", {"fraud:product-owner"}).get(),
                                 CancelOf(erins.run_id()), &answer),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.cancel", "fraud"});
  CHECK(a.runs->Get(erins.run_id())->state() != v1::RUN_STATE_CANCELLED);
  // Its own squad cancels it, and the record names who did.
  REQUIRE(a.stub->CancelRun(a.As("erin", kErin).get(), CancelOf(erins.run_id()), &answer).ok());
  CHECK(answer.state() == v1::RUN_STATE_CANCELLED);
  CHECK(answer.history().rbegin()->reason() == "cancelled by erin");
  a.datasets.gate.Open();
}

TEST_CASE("A run recorded without a squad is the platform's", "[trainer][access]") {
  Adapter a;
  v1::Run legacy;
  *legacy.mutable_spec() = TrainableSpec();
  legacy.mutable_submitted_by()->set_subject("dana");
  const std::string id = a.runs->Submit(legacy)->run_id();
  v1::Run answer;
  // Holding runs.read in some squad is not enough: it must hold in every one.
  CheckRefused(a.stub->GetRun(a.Dana().get(), GetOf(id), &answer),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.read", "in every squad"});
  CheckRefused(a.stub->CancelRun(a.Dana().get(), CancelOf(id), &answer),
               grpc::StatusCode::PERMISSION_DENIED, {"runs.cancel", "in every squad"});
  v1::ListRunsResponse listed;
  REQUIRE(a.stub->ListRuns(a.Dana().get(), v1::ListRunsRequest(), &listed).ok());
  CHECK(listed.runs_size() == 0);
  // An admin, who holds it everywhere, reaches it.
  REQUIRE(a.stub->GetRun(a.As("root", {}).get(), GetOf(id), &answer).ok());
  CHECK(answer.run_id() == id);
  REQUIRE(a.stub->ListRuns(a.As("root", {}).get(), v1::ListRunsRequest(), &listed).ok());
  CHECK(listed.runs_size() == 1);
}

TEST_CASE("Runs list only the squads where the caller reads runs", "[trainer][access]") {
  Adapter a;
  a.datasets.gate.Close();
  v1::Run run;
  REQUIRE(a.Submit(a.Dana(), TrainableSpec(), &run).ok());
  const std::string risk = run.run_id();
  REQUIRE(a.Submit(a.As("erin", kErin), TrainableSpec(), &run).ok());
  const std::string fraud = run.run_id();
  const auto listed = [&a](std::unique_ptr<grpc::ClientContext> context) {
    v1::ListRunsResponse response;
    REQUIRE(a.stub->ListRuns(context.get(), v1::ListRunsRequest(), &response).ok());
    std::vector<std::string> ids;
    for (const v1::Run& r : response.runs()) ids.push_back(r.run_id());
    return ids;
  };
  CHECK(listed(a.Dana()) == std::vector<std::string>{risk});
  CHECK(listed(a.As("erin", kErin)) == std::vector<std::string>{fraud});
  CHECK(listed(a.As("sam", {"risk:data-scientist", "fraud:product-owner"})) ==
        std::vector<std::string>{fraud, risk});
  CHECK(listed(a.As("root", {})) == std::vector<std::string>{fraud, risk});
  // Someone who reads runs nowhere is refused, rather than shown an empty list.
  v1::ListRunsResponse response;
  CheckRefused(
      a.stub->ListRuns(a.As("ed", {"risk:data-engineer"}).get(), v1::ListRunsRequest(), &response),
      grpc::StatusCode::PERMISSION_DENIED, {"runs.read"});
  a.datasets.gate.Open();
}

// A call from `stub`'s service for `user` with `groups` ("" = on its own account), for `squad`.
grpc::Status SubmitFrom(v1::Trainer::Stub& stub, const std::string& user,
                        const std::vector<std::string>& groups, const std::string& squad,
                        v1::Run* run) {
  client::CallContext call;
  call.timeout = kPatience;
  call.credentials.on_behalf_of_user = user;
  call.credentials.on_behalf_of_groups = groups;
  std::unique_ptr<grpc::ClientContext> context = *call.NewClientContext();
  v1::SubmitRunRequest request;
  *request.mutable_spec() = TrainableSpec();
  request.set_squad(squad);
  return stub.SubmitRun(context.get(), request, run);
}

TEST_CASE("A service submits for a user where both may, and the run records both",
          "[trainer][access]") {
  Adapter a(nullptr, /*tls=*/true);
  std::unique_ptr<v1::Trainer::Stub> tower = a.StubAs("tower");
  v1::Run run;
  // For dana: her one squad, checked for her and for the tower.
  REQUIRE(SubmitFrom(*tower, "dana", kDana, "", &run).ok());
  CHECK(run.squad() == "risk");
  CHECK(run.submitted_by().subject() == "dana");
  CHECK(run.submitted_by().service() == "tower");
  CHECK(run.submitted_by().squad() == "risk");
  CHECK(std::vector<std::string>(run.submitted_by().groups().begin(),
                                 run.submitted_by().groups().end()) == kDana);
  CheckRefused(SubmitFrom(*tower, "dana", kDana, "fraud", &run),
               grpc::StatusCode::PERMISSION_DENIED, {"user:dana", "runs.submit", "fraud"});
  // On its own account the tower holds runs.submit in every squad: it names the squad.
  CheckRefused(SubmitFrom(*tower, "", {}, "", &run), grpc::StatusCode::INVALID_ARGUMENT,
               {"service:tower", "every squad", "--squad"});
  REQUIRE(SubmitFrom(*tower, "", {}, "fraud", &run).ok());
  CHECK(run.submitted_by().subject() == "service:tower");
  CHECK(run.squad() == "fraud");
  // A service that may not act for users is refused, the default squad or not, saying why.
  std::unique_ptr<v1::Trainer::Stub> inference = a.StubAs("inference");
  CheckRefused(SubmitFrom(*inference, "dana", kDana, "risk", &run),
               grpc::StatusCode::PERMISSION_DENIED, {"service:inference", "risk"});
  CheckRefused(SubmitFrom(*inference, "dana", kDana, "", &run), grpc::StatusCode::PERMISSION_DENIED,
               {"service:inference", "risk"});
}

TEST_CASE("With --insecure every caller is anonymous, and a submission names its squad",
          "[trainer][access]") {
  server::AccessOptions options;
  options.service_name = "trainer";
  options.insecure = true;
  std::unique_ptr<server::Access> open = *server::Access::Create(options);
  Adapter a(open.get());
  v1::Run run;
  CheckRefused(a.Submit(NoToken(), TrainableSpec(), &run), grpc::StatusCode::INVALID_ARGUMENT,
               {"--insecure", "--squad"});
  REQUIRE(a.Submit(NoToken(), TrainableSpec(), &run, "risk").ok());
  CHECK(run.squad() == "risk");
  CHECK(run.submitted_by().subject() == "anonymous");
  v1::Run got;
  REQUIRE(a.stub->GetRun(NoToken().get(), GetOf(run.run_id()), &got).ok());
  CHECK(got.run_id() == run.run_id());
}

}  // namespace
}  // namespace fabrique::services
