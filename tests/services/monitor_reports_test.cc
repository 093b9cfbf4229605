// The monitor's reference profile and report calls through the real server: what each returns,
// and the gRPC code of each refusal.

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services::monitor_test {
namespace {

using monitoring::testing::Bool;
using monitoring::testing::Double;
using monitoring::testing::kStart;
using monitoring::testing::Numbers;
using monitoring::testing::OutcomeById;
using monitoring::testing::Prediction;
using monitoring::testing::Profile;
using monitoring::testing::Spread;
using monitoring::testing::ToProto;

// fraud (squad fraud, binary) has versions 1..3; its profile of `amount` spreads over 0..100.
struct Fixture {
  MonitorAdapter monitor;

  Fixture() {
    monitor.registry.Add("fraud", "fraud", v1::TASK_BINARY_CLASSIFICATION, 3);
    monitor.versions.AddVersion("fraud", 3, nullptr,
                                {monitoring::testing::TrainingMetric("accuracy", 0.7)});
    monitor.versions.AddVersion("fraud", 2);
  }

  v1::ReferenceProfile FraudProfile(int64_t version = 3) {
    return Profile("fraud", version, {{"amount", Numbers(Spread(0, 100, 200))}},
                   {{"probability", Numbers(Spread(0, 1, 200))}});
  }

  // Logs 200 predictions of fraud:`version` in the hour from kStart, amounts from `from` on,
  // and outcomes for the first `labelled` (the model right on each).
  void Log(int64_t version, double from, int labelled = 0) {
    std::vector<v1::PredictionRecord> records;
    std::vector<v1::Outcome> outcomes;
    for (int i = 0; i < 200; ++i) {
      const std::string id = absl::StrCat("v", version, "-", i);
      v1::PredictionRecord record =
          Prediction(id, "fraud", version, kStart + absl::Seconds(i * 10));
      *record.add_inputs() = Double(from + i * 0.5);
      v1::ModelOutput* output = record.add_outputs();
      output->set_name("probability");
      output->add_values(i % 2 == 0 ? 0.8f : 0.1f);
      record.set_predicted_label(i % 2 == 0 ? "1" : "0");
      records.push_back(record);
      if (i < labelled) outcomes.push_back(OutcomeById(id, Bool(i % 2 == 0), kStart));
    }
    v1::LogPredictionsResponse logged;
    REQUIRE(monitor.LogPredictions({PredictionBatch(absl::StrCat("b", version), records)}, &logged)
                .ok());
    REQUIRE(logged.accepted() == 200);
    if (outcomes.empty()) return;
    v1::LogOutcomesResponse joined;
    REQUIRE(monitor
                .LogOutcomes({OutcomeBatch(absl::StrCat("o", version), outcomes)}, &joined, "root",
                             kRoot)
                .ok());
    REQUIRE(joined.matched() == labelled);
  }

  template <typename Request, typename Response, typename Method>
  grpc::Status Call(Method method, const Request& request, Response* response,
                    const std::string& user = "root",
                    const std::vector<std::string>& groups = kRoot) {
    auto context = monitor.identity.Context(user, groups);
    return (monitor.stub.get()->*method)(context.get(), request, response);
  }

  grpc::Status Drift(const v1::GetDriftReportRequest& request, v1::DriftReport* report,
                     const std::string& user = "root",
                     const std::vector<std::string>& groups = kRoot) {
    return Call(&v1::Monitor::Stub::GetDriftReport, request, report, user, groups);
  }
};

v1::GetDriftReportRequest DriftOf(int64_t version) {
  v1::GetDriftReportRequest request;
  request.mutable_model()->set_model("fraud");
  if (version > 0) request.mutable_model()->set_version(version);
  *request.mutable_window()->mutable_start_time() = ToProto(kStart);
  *request.mutable_window()->mutable_end_time() = ToProto(kStart + absl::Hours(1));
  return request;
}

TEST_CASE("PutReferenceProfile keeps a profile; GetReferenceProfile returns it") {
  Fixture f;
  v1::PutReferenceProfileRequest put;
  *put.mutable_profile() = f.FraudProfile();
  v1::ReferenceProfile kept;
  const grpc::Status status =
      f.Call(&v1::Monitor::Stub::PutReferenceProfile, put, &kept, "erin", kErin);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(kept.training_metrics_size() == 1);  // From the registry's version.

  v1::GetReferenceProfileRequest get;
  get.mutable_model_version()->set_model("fraud");
  get.mutable_model_version()->set_version(3);
  v1::ReferenceProfile got;
  REQUIRE(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got, "erin", kErin).ok());
  CHECK(got.features(0).name() == "amount");
  // Another squad's model is not theirs to read.
  CHECK(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got, "dana", kDana).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("PutReferenceProfile refuses a profile without a version, or with a broken column") {
  Fixture f;
  v1::ReferenceProfile out;
  const auto put = [&](const v1::ReferenceProfile& profile) {
    v1::PutReferenceProfileRequest request;
    *request.mutable_profile() = profile;
    return f.Call(&v1::Monitor::Stub::PutReferenceProfile, request, &out).error_code();
  };
  v1::ReferenceProfile no_version = f.FraudProfile();
  no_version.clear_model_version();
  CHECK(put(no_version) == grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReferenceProfile version_zero = f.FraudProfile();
  version_zero.mutable_model_version()->set_version(0);
  CHECK(put(version_zero) == grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReferenceProfile corrupt = f.FraudProfile();
  corrupt.mutable_features(0)->mutable_numeric()->set_quantile_sketch("not a sketch");
  CHECK(put(corrupt) == grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReferenceProfile no_summary = f.FraudProfile();
  no_summary.mutable_predictions(0)->clear_numeric();
  CHECK(put(no_summary) == grpc::StatusCode::INVALID_ARGUMENT);
  // A version the registry does not know, and a model it does not know.
  CHECK(put(f.FraudProfile(7)) == grpc::StatusCode::NOT_FOUND);
  v1::ReferenceProfile churn = f.FraudProfile();
  churn.mutable_model_version()->set_model("churn");
  CHECK(put(churn) == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("GetReferenceProfile reads the registry's artifact; NOT_FOUND or UNAVAILABLE else") {
  Fixture f;
  v1::ReferenceProfile registered = f.FraudProfile(1);
  f.monitor.versions.AddVersion("fraud", 1, &registered);
  v1::GetReferenceProfileRequest get;
  get.mutable_model_version()->set_model("fraud");
  get.mutable_model_version()->set_version(1);
  v1::ReferenceProfile got;
  REQUIRE(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got).ok());
  CHECK(got.model_version().version() == 1);

  get.mutable_model_version()->set_version(2);  // Registered without a profile.
  CHECK(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  get.mutable_model_version()->set_version(0);
  CHECK(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReferenceProfile other = f.FraudProfile(3);
  f.monitor.versions.AddVersion("fraud", 3, &other);
  f.monitor.versions.SetDown(true);
  get.mutable_model_version()->set_version(3);
  CHECK(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  // Kept ones do not need the registry.
  get.mutable_model_version()->set_version(1);
  CHECK(f.Call(&v1::Monitor::Stub::GetReferenceProfile, get, &got).ok());
}

TEST_CASE("GetDriftReport compares the window with the profile and stores the report") {
  Fixture f;
  v1::PutReferenceProfileRequest put;
  *put.mutable_profile() = f.FraudProfile();
  v1::ReferenceProfile kept;
  REQUIRE(f.Call(&v1::Monitor::Stub::PutReferenceProfile, put, &kept).ok());
  f.Log(3, 50);

  v1::DriftReport report;
  const grpc::Status status = f.Drift(DriftOf(3), &report, "erin", kErin);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(report.prediction_count() == 200);
  REQUIRE(report.features_size() == 1);
  CHECK(report.features(0).name() == "amount");
  CHECK(report.features(0).status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK(report.features(0).out_of_range_count() == 100);
  CHECK(report.dataset_drift().drifted());
  CHECK(report.severity() == v1::SEVERITY_WARNING);
  REQUIRE_FALSE(report.report_id().empty());

  v1::GetDriftReportRequest by_id;
  by_id.set_report_id(report.report_id());
  v1::DriftReport stored;
  REQUIRE(f.Drift(by_id, &stored, "erin", kErin).ok());
  CHECK(stored.features(0).status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK(f.Drift(by_id, &stored, "dana", kDana).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  by_id.set_report_id("01NOSUCHREPORT0000000000000");
  CHECK(f.Drift(by_id, &stored).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("GetDriftReport: a version without a profile gives NO_REFERENCE columns, not an error") {
  Fixture f;
  f.Log(2, 0);
  v1::DriftReport report;
  REQUIRE(f.Drift(DriftOf(2), &report).ok());
  CHECK(report.no_reference());
  CHECK(report.features(0).status() == v1::DRIFT_STATUS_NO_REFERENCE);
  // A version the registry does not know is reported, flagged.
  f.Log(9, 0);
  REQUIRE(f.Drift(DriftOf(9), &report).ok());
  CHECK(report.unknown_version());
}

TEST_CASE("GetDriftReport resolves aliases, and refuses what it cannot report on") {
  Fixture f;
  v1::DriftReport report;
  // No selector: the production alias, which fraud does not have yet.
  CHECK(f.Drift(DriftOf(0), &report).error_code() == grpc::StatusCode::NOT_FOUND);
  f.monitor.aliases["fraud@production"] = 3;
  REQUIRE(f.Drift(DriftOf(0), &report).ok());
  CHECK(report.model_version().version() == 3);
  v1::GetDriftReportRequest candidate = DriftOf(0);
  candidate.mutable_model()->set_alias("candidate");
  CHECK(f.Drift(candidate, &report).error_code() == grpc::StatusCode::NOT_FOUND);

  v1::GetDriftReportRequest backwards = DriftOf(3);
  *backwards.mutable_window()->mutable_end_time() = ToProto(kStart - absl::Hours(1));
  CHECK(f.Drift(backwards, &report).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetDriftReportRequest half_baseline = DriftOf(3);
  *half_baseline.mutable_baseline_window()->mutable_start_time() = ToProto(kStart);
  CHECK(f.Drift(half_baseline, &report).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetDriftReportRequest unspecified = DriftOf(3);
  unspecified.add_metrics(v1::DRIFT_METRIC_UNSPECIFIED);
  CHECK(f.Drift(unspecified, &report).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetDriftReportRequest no_model = DriftOf(3);
  no_model.mutable_model()->clear_model();
  CHECK(f.Drift(no_model, &report).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetDriftReportRequest churn = DriftOf(3);
  churn.mutable_model()->set_model("churn");
  CHECK(f.Drift(churn, &report).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(f.Drift(DriftOf(3), &report, "dana", kDana).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  // The registry away: an alias cannot be resolved, a profile not read.
  f.monitor.clock.Advance(absl::Minutes(5));  // Past the directory's cache.
  f.monitor.SetRegistryDown(true);
  CHECK(f.Drift(DriftOf(0), &report).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("A profile not kept yet, with the registry away, is UNAVAILABLE for a drift report") {
  Fixture f;
  f.monitor.aliases["fraud@production"] = 3;
  v1::DriftReport report;
  REQUIRE(f.Drift(DriftOf(3), &report).ok());  // The directory learns of fraud.
  f.monitor.versions.SetDown(true);
  CHECK(f.Drift(DriftOf(3), &report).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("ListDriftReports lists newest first in pages and refuses a bad token") {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::DriftReport report;
    REQUIRE(f.Drift(DriftOf(2), &report).ok());
    ids.insert(ids.begin(), report.report_id());
    f.monitor.clock.Advance(absl::Seconds(1));
  }
  v1::ListDriftReportsRequest list;
  list.set_model("fraud");
  list.set_page_size(2);
  v1::ListDriftReportsResponse page;
  REQUIRE(f.Call(&v1::Monitor::Stub::ListDriftReports, list, &page, "erin", kErin).ok());
  REQUIRE(page.reports_size() == 2);
  CHECK(page.reports(0).report_id() == ids[0]);
  CHECK(page.reports(1).report_id() == ids[1]);
  list.set_page_token(page.next_page_token());
  REQUIRE(f.Call(&v1::Monitor::Stub::ListDriftReports, list, &page).ok());
  REQUIRE(page.reports_size() == 1);
  CHECK(page.reports(0).report_id() == ids[2]);
  CHECK(page.next_page_token().empty());

  list.set_page_token("not-a-token");
  CHECK(f.Call(&v1::Monitor::Stub::ListDriftReports, list, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  list.clear_page_token();
  list.set_min_severity(v1::SEVERITY_WARNING);
  REQUIRE(f.Call(&v1::Monitor::Stub::ListDriftReports, list, &page).ok());
  CHECK(page.reports_size() == 0);
  list.set_model("");
  CHECK(f.Call(&v1::Monitor::Stub::ListDriftReports, list, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("GetPerformanceReport back-tests joined outcomes beside the training figures") {
  Fixture f;
  f.Log(3, 0, 120);
  v1::GetPerformanceReportRequest request;
  request.mutable_model()->set_model("fraud");
  request.mutable_model()->set_version(3);
  *request.mutable_window()->mutable_start_time() = ToProto(kStart);
  *request.mutable_window()->mutable_end_time() = ToProto(kStart + absl::Hours(1));
  request.mutable_bucket()->set_seconds(1800);
  v1::PerformanceReport report;
  const grpc::Status status =
      f.Call(&v1::Monitor::Stub::GetPerformanceReport, request, &report, "erin", kErin);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(report.prediction_count() == 200);
  CHECK(report.labelled_count() == 120);
  CHECK(report.label_coverage() == Approx(0.6));
  CHECK(report.buckets_size() >= 1);
  bool accuracy = false;
  for (const v1::Metric& metric : report.metrics()) {
    if (metric.name() != "accuracy") continue;
    accuracy = true;
    CHECK(metric.value() == Approx(1.0));
    CHECK(metric.baseline().value() == Approx(0.7));
  }
  CHECK(accuracy);

  v1::GetPerformanceReportRequest by_id;
  by_id.set_report_id(report.report_id());
  v1::PerformanceReport stored;
  REQUIRE(f.Call(&v1::Monitor::Stub::GetPerformanceReport, by_id, &stored).ok());
  CHECK(stored.labelled_count() == 120);
  by_id.set_report_id("nope");
  CHECK(f.Call(&v1::Monitor::Stub::GetPerformanceReport, by_id, &stored).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  v1::ListPerformanceReportsRequest list;
  list.set_model("fraud");
  v1::ListPerformanceReportsResponse page;
  REQUIRE(f.Call(&v1::Monitor::Stub::ListPerformanceReports, list, &page).ok());
  CHECK(page.reports_size() == 1);
  list.set_page_token("%%%");
  CHECK(f.Call(&v1::Monitor::Stub::ListPerformanceReports, list, &page).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  request.mutable_bucket()->set_seconds(-5);
  CHECK(f.Call(&v1::Monitor::Stub::GetPerformanceReport, request, &report).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_bucket();
  *request.mutable_window()->mutable_start_time() = ToProto(kStart + absl::Hours(2));
  CHECK(f.Call(&v1::Monitor::Stub::GetPerformanceReport, request, &report).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_window();  // The policy's window ending now: none of these predictions.
  REQUIRE(f.Call(&v1::Monitor::Stub::GetPerformanceReport, request, &report).ok());
  CHECK(report.prediction_count() == 0);
  CHECK_FALSE(report.sufficient_labels());
}

}  // namespace
}  // namespace fabrique::services::monitor_test

namespace fabrique::services::monitor_test {
namespace {

TEST_CASE("A request without a window reads the policy's window ending now") {
  Fixture f;
  f.monitor.policy.mutable_window()->set_seconds(1800);
  v1::GetDriftReportRequest request = DriftOf(3);
  request.clear_window();
  v1::DriftReport report;
  REQUIRE(f.Drift(request, &report).ok());
  CHECK(report.window().end_time().seconds() == absl::ToUnixSeconds(f.monitor.clock.Now()));
  CHECK(report.window().end_time().seconds() - report.window().start_time().seconds() == 1800);
  // Only an end: the policy's window before it.
  *request.mutable_window()->mutable_end_time() = ToProto(kStart - absl::Hours(5));
  REQUIRE(f.Drift(request, &report).ok());
  CHECK(report.window().start_time().seconds() ==
        absl::ToUnixSeconds(kStart - absl::Hours(5) - absl::Minutes(30)));
}

}  // namespace
}  // namespace fabrique::services::monitor_test
