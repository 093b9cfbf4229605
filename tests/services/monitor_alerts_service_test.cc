// The monitor's policy and alert calls through the real server (loopback, real access guard):
// each call's success and its failure codes, and alerts raised and resolved by the evaluation
// loop's "evaluate now".

#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "services/monitor/alert_owners.h"
#include "services/monitor/evaluation_loop.h"
#include "tests/monitoring/alerts/alerts_test_util.h"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services {
namespace {

using monitor_test::FakeRegistry;
using monitor_test::kDana;
using monitor_test::kErin;
using monitor_test::kRoot;
using monitoring::alerts_test::Active;
using monitoring::alerts_test::AlertsHarness;
using monitoring::alerts_test::DriftWith;
using monitoring::alerts_test::kStart;

// fabrique-monitor's policy and alert calls as main.cc wires them, over the alerts harness
// (fake windows, reports and tower) and a fake registry: fraud is squad fraud's, churn risk's.
struct AlertsAdapter {
  fabrique::testing::TestIdentity identity;
  AlertsHarness h;
  FakeRegistry registry;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<MonitorMetrics> metrics;
  std::unique_ptr<ModelDirectory> directory;
  std::unique_ptr<monitoring::IntakeStore> store;
  std::unique_ptr<MonitorIntake> intake;
  std::unique_ptr<EvaluationLoop> loop;
  std::unique_ptr<MonitorService> service;
  std::unique_ptr<v1::Monitor::Stub> stub;

  AlertsAdapter() {
    registry.Add("fraud", "fraud", v1::TASK_BINARY_CLASSIFICATION, 3);
    registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "monitor";
    host_options.listen_host = "127.0.0.1";
    host_options.metrics_port = -1;
    host = *server::ServiceHost::Create(host_options);
    metrics = std::make_unique<MonitorMetrics>(host->metrics());
    ModelDirectoryOptions directory_options;
    directory_options.lookup = [this](const std::string& name) { return registry.Lookup(name); };
    directory_options.clock = &h.clock;
    directory = std::make_unique<ModelDirectory>(std::move(directory_options));
    monitoring::IntakeOptions intake_options;
    intake_options.dir = h.dir.Sub("intake");
    intake_options.clock = &h.clock;
    intake_options.known = MonitorIntake::KnownFrom(directory.get());
    store = *monitoring::IntakeStore::Open(std::move(intake_options));
    intake = std::make_unique<MonitorIntake>(store.get(), directory.get());
    EvaluationLoopOptions loop_options;
    loop_options.engine = h.engine.get();
    loop_options.alerts = h.alerts.get();
    loop_options.metrics = metrics.get();
    loop_options.clock = &h.clock;
    loop = std::make_unique<EvaluationLoop>(loop_options);
    MonitorAlertParts parts;
    parts.policies = h.policies.get();
    parts.alerts = h.alerts.get();
    parts.owner_of = [owners = MonitoredModelOwners(directory.get())](absl::string_view model) {
      return owners(auth::kModel, model);
    };
    parts.clock = &h.clock;
    service = std::make_unique<MonitorService>(
        intake.get(),
        server::ServiceAccess(
            identity.guard(), v1::Monitor::service_full_name(),
            WithAlertOwners(MonitoredModelOwners(directory.get()), h.alerts.get())),
        metrics.get(), MonitorReports(), nullptr, std::move(parts));
    host->AddService(service.get(), v1::Monitor::service_full_name(), "the monitor");
    REQUIRE(host->Start().ok());
    stub = v1::Monitor::NewStub(
        client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~AlertsAdapter() { host->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> As(const std::string& user,
                                          const std::vector<std::string>& groups) {
    return identity.Context(user, groups);
  }
};

v1::SetMonitoringPolicyRequest PolicyRequest(const std::string& model) {
  v1::SetMonitoringPolicyRequest request;
  v1::MonitoringPolicy* policy = request.mutable_policy();
  policy->set_model(model);
  policy->set_min_samples(200);
  v1::DriftThreshold* psi = policy->add_drift();
  psi->set_metric(v1::DRIFT_METRIC_PSI);
  psi->set_warning_threshold(0.1);
  psi->set_critical_threshold(0.25);
  return request;
}

TEST_CASE("Policies are set, read, listed and deleted with their codes", "[monitor][policy]") {
  AlertsAdapter a;
  v1::MonitoringPolicy policy;
  grpc::Status status =
      a.stub->SetMonitoringPolicy(a.As("erin", kErin).get(), PolicyRequest("fraud"), &policy);
  REQUIRE(status.ok());
  CHECK(policy.updated_by().subject() == "erin");
  CHECK(monitoring::FromProtoTime(policy.update_time()) == kStart);

  SECTION("an impossible threshold is INVALID_ARGUMENT naming the field") {
    v1::SetMonitoringPolicyRequest bad = PolicyRequest("fraud");
    bad.mutable_policy()->mutable_drift(0)->set_critical_threshold(0.05);
    status = a.stub->SetMonitoringPolicy(a.As("erin", kErin).get(), bad, &policy);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("policy.drift[0].critical_threshold") != std::string::npos);
  }
  SECTION("another squad's model is PERMISSION_DENIED; an unknown model NOT_FOUND") {
    status =
        a.stub->SetMonitoringPolicy(a.As("dana", kDana).get(), PolicyRequest("fraud"), &policy);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::GetMonitoringPolicyRequest get;
    get.set_model("fraud");
    status = a.stub->GetMonitoringPolicy(a.As("dana", kDana).get(), get, &policy);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    get.set_model("nope");
    status = a.stub->GetMonitoringPolicy(a.As("root", kRoot).get(), get, &policy);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  }
  SECTION("the default policy is the platform's, and applies to models without one") {
    status = a.stub->SetMonitoringPolicy(a.As("erin", kErin).get(), PolicyRequest(""), &policy);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::SetMonitoringPolicyRequest fallback = PolicyRequest("");
    fallback.mutable_policy()->set_min_samples(7);
    REQUIRE(a.stub->SetMonitoringPolicy(a.As("root", kRoot).get(), fallback, &policy).ok());
    v1::GetMonitoringPolicyRequest get;
    get.set_model("churn");
    REQUIRE(a.stub->GetMonitoringPolicy(a.As("dana", kDana).get(), get, &policy).ok());
    CHECK(policy.min_samples() == 7);
    CHECK(policy.model().empty());
    // Lists show each squad its own models' policies, and the default.
    v1::ListMonitoringPoliciesResponse listed;
    REQUIRE(a.stub->ListMonitoringPolicies(a.As("dana", kDana).get(), {}, &listed).ok());
    REQUIRE(listed.policies_size() == 1);
    CHECK(listed.policies(0).model().empty());
    v1::ListMonitoringPoliciesResponse erins;
    REQUIRE(a.stub->ListMonitoringPolicies(a.As("erin", kErin).get(), {}, &erins).ok());
    CHECK(erins.policies_size() == 2);  // The default and fraud's.
  }
  SECTION("delete, then NOT_FOUND; bad pages are INVALID_ARGUMENT") {
    v1::DeleteMonitoringPolicyRequest del;
    del.set_model("fraud");
    v1::DeleteMonitoringPolicyResponse deleted;
    CHECK(a.stub->DeleteMonitoringPolicy(a.As("dana", kDana).get(), del, &deleted).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(a.stub->DeleteMonitoringPolicy(a.As("erin", kErin).get(), del, &deleted).ok());
    CHECK(a.stub->DeleteMonitoringPolicy(a.As("erin", kErin).get(), del, &deleted).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    v1::GetMonitoringPolicyRequest get;
    get.set_model("fraud");
    REQUIRE(a.stub->GetMonitoringPolicy(a.As("erin", kErin).get(), get, &policy).ok());
    CHECK(policy.model().empty());  // The built-in one now.
    v1::ListMonitoringPoliciesRequest list;
    list.set_page_size(-1);
    v1::ListMonitoringPoliciesResponse listed;
    CHECK(a.stub->ListMonitoringPolicies(a.As("erin", kErin).get(), list, &listed).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_CASE("Alerts raised by an evaluation are listed, read and acknowledged with their codes",
          "[monitor][alerts]") {
  AlertsAdapter a;
  a.h.windows.Set({Active("fraud", 3, kStart)});
  a.h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  absl::StatusOr<monitoring::EvaluationRound> round = a.loop->EvaluateNow();
  REQUIRE(round.ok());
  REQUIRE(round->versions.size() == 1);

  v1::ListAlertsResponse listed;
  REQUIRE(a.stub->ListAlerts(a.As("erin", kErin).get(), {}, &listed).ok());
  REQUIRE(listed.alerts_size() == 1);
  const v1::Alert fired = listed.alerts(0);
  CHECK(fired.state() == v1::ALERT_STATE_FIRING);
  CHECK(fired.kind() == v1::ALERT_KIND_FEATURE_DRIFT);
  CHECK(!fired.report_id().empty());
  // Another squad sees none of them.
  REQUIRE(a.stub->ListAlerts(a.As("dana", kDana).get(), {}, &listed).ok());
  CHECK(listed.alerts_size() == 0);
  v1::ListAlertsRequest resolved_only;
  resolved_only.set_state(v1::ALERT_STATE_RESOLVED);
  REQUIRE(a.stub->ListAlerts(a.As("erin", kErin).get(), resolved_only, &listed).ok());
  CHECK(listed.alerts_size() == 0);
  v1::ListAlertsRequest bad_page;
  bad_page.set_page_token("not-a-token");
  CHECK(a.stub->ListAlerts(a.As("erin", kErin).get(), bad_page, &listed).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetAlertRequest get;
  get.set_id(fired.id());
  v1::Alert alert;
  REQUIRE(a.stub->GetAlert(a.As("erin", kErin).get(), get, &alert).ok());
  CHECK(alert.summary() == fired.summary());
  CHECK(a.stub->GetAlert(a.As("dana", kDana).get(), get, &alert).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  get.set_id("01NOSUCHALERT");
  CHECK(a.stub->GetAlert(a.As("erin", kErin).get(), get, &alert).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  get.clear_id();
  CHECK(a.stub->GetAlert(a.As("erin", kErin).get(), get, &alert).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  v1::AcknowledgeAlertRequest ack;
  ack.set_id(fired.id());
  ack.set_comment("retraining");
  ack.mutable_silence_for()->set_seconds(7200);
  CHECK(a.stub->AcknowledgeAlert(a.As("dana", kDana).get(), ack, &alert).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(a.stub->AcknowledgeAlert(a.As("erin", kErin).get(), ack, &alert).ok());
  CHECK(alert.state() == v1::ALERT_STATE_ACKNOWLEDGED);
  CHECK(alert.acknowledged_by().subject() == "erin");
  CHECK(monitoring::FromProtoTime(alert.silenced_until()) == kStart + absl::Hours(2));
  v1::AcknowledgeAlertRequest negative = ack;
  negative.mutable_silence_for()->set_seconds(-5);
  CHECK(a.stub->AcknowledgeAlert(a.As("erin", kErin).get(), negative, &alert).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // Clear: the next evaluation resolves it, and it can no longer be acknowledged.
  a.h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_OK}}));
  round = a.loop->EvaluateNow();
  REQUIRE(round.ok());
  REQUIRE(round->versions[0].resolved.size() == 1);
  CHECK(a.stub->AcknowledgeAlert(a.As("erin", kErin).get(), ack, &alert).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(a.stub->ListAlerts(a.As("erin", kErin).get(), resolved_only, &listed).ok());
  CHECK(listed.alerts_size() == 1);
}

TEST_CASE("The evaluation loop runs in the background and stops cleanly", "[monitor][alerts]") {
  AlertsAdapter a;
  a.h.windows.Set({Active("fraud", 3, kStart)});
  a.h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_WARNING}}));
  a.loop->Start();
  // The fake clock stands still: the first round runs at once, then the loop waits on it.
  REQUIRE(a.h.clock.AwaitSleeps(1, absl::Seconds(10)));
  a.loop->Stop();
  v1::ListAlertsResponse listed;
  REQUIRE(a.stub->ListAlerts(a.As("root", kRoot).get(), {}, &listed).ok());
  CHECK(listed.alerts_size() == 1);
}

}  // namespace
}  // namespace fabrique::services
