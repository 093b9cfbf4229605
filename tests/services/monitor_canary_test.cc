// CompareCanary through the monitor's adapter, in-process: a candidate against the primary read
// through their aliases or named, its verdicts (not worse, worse, not enough data) with sample
// sizes and label coverage, and each refusal with its code.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services::monitor_test {
namespace {

using monitoring::testing::Double;
using monitoring::testing::kStart;
using monitoring::testing::OutcomeById;
using monitoring::testing::Prediction;
using monitoring::testing::ToProto;

// A regression model "price" of risk: version 1 in production, version 2 the candidate.
void AddPriceModel(MonitorAdapter& monitor) {
  monitor.registry.Add("price", "risk", v1::TASK_REGRESSION, 3);
  monitor.registry.SetAlias("price", "production", 1);
  monitor.registry.SetAlias("price", "candidate", 2);
}

// Logs `predictions` predictions of `version`, 20 minutes before now, the first `labelled` of
// them joined to an outcome of 10 that the model missed by ±`error` (an rmse of `error`).
void LogTraffic(MonitorAdapter& monitor, int64_t version, int predictions, int labelled,
                double error) {
  std::vector<v1::PredictionRecord> records;
  std::vector<v1::Outcome> outcomes;
  for (int i = 0; i < predictions; ++i) {
    const std::string id = absl::StrCat("v", version, "-", i);
    v1::PredictionRecord record =
        Prediction(id, "price", version, kStart - absl::Minutes(20) + absl::Seconds(i));
    record.clear_predicted_label();
    v1::ModelOutput* output = record.add_outputs();
    output->set_name("prediction");
    output->add_values(static_cast<float>(10 + (i % 2 == 0 ? error : -error)));
    records.push_back(std::move(record));
    if (i < labelled) outcomes.push_back(OutcomeById(id, Double(10), kStart - absl::Minutes(5)));
  }
  v1::LogPredictionsResponse logged;
  REQUIRE(
      monitor.LogPredictions({PredictionBatch(absl::StrCat("p", version), records)}, &logged).ok());
  REQUIRE(logged.accepted() == predictions);
  v1::LogOutcomesResponse joined;
  REQUIRE(
      monitor
          .LogOutcomes({OutcomeBatch(absl::StrCat("o", version), outcomes)}, &joined, "dana", kDana)
          .ok());
  REQUIRE(joined.matched() == labelled);
}

grpc::Status Compare(MonitorAdapter& monitor, const v1::CompareCanaryRequest& request,
                     v1::CanaryComparison* response, const std::string& user = "dana",
                     const std::vector<std::string>& groups = kDana) {
  auto context = monitor.identity.Context(user, groups);
  return monitor.stub->CompareCanary(context.get(), request, response);
}

v1::CompareCanaryRequest Request(const std::string& model = "price") {
  v1::CompareCanaryRequest request;
  request.set_model(model);
  return request;
}

double MetricOf(const v1::CanarySide& side, const std::string& name) {
  for (const v1::Metric& metric : side.metrics()) {
    if (metric.name() == name) return metric.value();
  }
  return -1;
}

TEST_CASE("CompareCanary reads the aliases and finds a candidate as good as the primary") {
  MonitorAdapter monitor;
  AddPriceModel(monitor);
  LogTraffic(monitor, 1, 40, 32, 1.0);
  LogTraffic(monitor, 2, 50, 40, 1.0);
  v1::CanaryComparison comparison;
  const grpc::Status status = Compare(monitor, Request(), &comparison);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(!comparison.report_id().empty());
  CHECK(comparison.candidate().model_version().version() == 2);
  CHECK(comparison.primary().model_version().version() == 1);
  CHECK(comparison.candidate().prediction_count() == 50);
  CHECK(comparison.candidate().labelled_count() == 40);
  CHECK(comparison.candidate().label_coverage() == Approx(0.8));
  CHECK(comparison.primary().prediction_count() == 40);
  CHECK(comparison.primary().labelled_count() == 32);
  CHECK(MetricOf(comparison.candidate(), "rmse") == Approx(1.0));
  CHECK(comparison.metric() == "rmse");
  CHECK(comparison.min_labelled() == 30);
  CHECK(comparison.enough_data());
  CHECK(comparison.candidate_not_worse());
  CHECK(comparison.degradation() == Approx(0).margin(1e-6));
  CHECK(absl::StartsWith(comparison.verdict(), "NOT_WORSE: "));
  // The default window: the hour before now.
  CHECK(comparison.window().end_time().seconds() == absl::ToUnixSeconds(kStart));
  CHECK(comparison.window().start_time().seconds() == absl::ToUnixSeconds(kStart) - 3600);
}

TEST_CASE("CompareCanary finds a candidate worse than allowed, in the metric's direction") {
  MonitorAdapter monitor;
  AddPriceModel(monitor);
  LogTraffic(monitor, 1, 40, 40, 1.0);
  LogTraffic(monitor, 2, 40, 40, 2.0);
  v1::CompareCanaryRequest request = Request();
  request.set_metric("rmse");
  request.set_max_degradation(0.5);
  v1::CanaryComparison comparison;
  REQUIRE(Compare(monitor, request, &comparison).ok());
  CHECK(comparison.enough_data());
  CHECK(!comparison.candidate_not_worse());
  // rmse: lower is better, so 2 against 1 is worse by 1.
  CHECK(comparison.degradation() == Approx(1.0).epsilon(1e-6));
  CHECK(comparison.max_degradation() == 0.5);
  CHECK(absl::StartsWith(comparison.verdict(), "WORSE: "));

  // The same comparison with the roles swapped: the better one is the candidate.
  request.set_candidate_version(1);
  request.set_primary_version(2);
  REQUIRE(Compare(monitor, request, &comparison).ok());
  CHECK(comparison.candidate_not_worse());
  CHECK(comparison.degradation() == Approx(-1.0).epsilon(1e-6));
}

TEST_CASE("CompareCanary gives no verdict below min_labelled on either side") {
  MonitorAdapter monitor;
  AddPriceModel(monitor);
  LogTraffic(monitor, 1, 40, 40, 1.0);
  LogTraffic(monitor, 2, 40, 10, 1.0);
  v1::CanaryComparison comparison;
  REQUIRE(Compare(monitor, Request(), &comparison).ok());
  CHECK(!comparison.enough_data());
  CHECK(!comparison.candidate_not_worse());
  CHECK(comparison.candidate().labelled_count() == 10);
  CHECK(absl::StartsWith(comparison.verdict(), "NOT_ENOUGH_DATA: "));
  CHECK(absl::StrContains(comparison.verdict(), "30 needed on each side"));

  // A window that leaves every prediction out: nothing on either side.
  v1::CompareCanaryRequest earlier = Request();
  *earlier.mutable_window()->mutable_start_time() = ToProto(kStart - absl::Hours(5));
  *earlier.mutable_window()->mutable_end_time() = ToProto(kStart - absl::Hours(4));
  REQUIRE(Compare(monitor, earlier, &comparison).ok());
  CHECK(comparison.candidate().prediction_count() == 0);
  CHECK(comparison.candidate().label_coverage() == 0);
  CHECK(!comparison.enough_data());
}

TEST_CASE("CompareCanary refuses requests it cannot answer, each with its code") {
  MonitorAdapter monitor;
  AddPriceModel(monitor);
  monitor.registry.Add("fresh", "risk", v1::TASK_REGRESSION, 1);
  monitor.registry.SetAlias("fresh", "production", 1);
  v1::CanaryComparison comparison;
  const auto code = [&](const v1::CompareCanaryRequest& request) {
    return Compare(monitor, request, &comparison).error_code();
  };
  v1::CompareCanaryRequest request = Request();
  request.set_max_degradation(-0.1);
  CHECK(code(request) == grpc::StatusCode::INVALID_ARGUMENT);
  request = Request();
  request.set_min_labelled(-1);
  CHECK(code(request) == grpc::StatusCode::INVALID_ARGUMENT);
  request = Request();
  request.set_metric("auc");  // Not a regression metric.
  CHECK(code(request) == grpc::StatusCode::INVALID_ARGUMENT);
  request = Request();
  request.set_candidate_version(1);  // The production alias's version.
  CHECK(code(request) == grpc::StatusCode::INVALID_ARGUMENT);
  request = Request();
  *request.mutable_window()->mutable_start_time() = ToProto(kStart);
  *request.mutable_window()->mutable_end_time() = ToProto(kStart - absl::Hours(1));
  CHECK(code(request) == grpc::StatusCode::INVALID_ARGUMENT);

  request = Request();
  request.set_candidate_version(9);
  CHECK(code(request) == grpc::StatusCode::NOT_FOUND);
  // An unknown model: the access check cannot find its owner.
  CHECK(code(Request("nowhere")) == grpc::StatusCode::NOT_FOUND);
  // No candidate alias: set one first.
  const grpc::Status no_candidate = Compare(monitor, Request("fresh"), &comparison);
  CHECK(no_candidate.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(no_candidate.error_message(), "'candidate' alias"));
  // Another squad's model.
  CHECK(Compare(monitor, Request(), &comparison, "erin", kErin).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // The registry cannot say where the aliases point now.
  monitor.registry.SetDown(true);
  CHECK(code(Request()) == grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace fabrique::services::monitor_test
