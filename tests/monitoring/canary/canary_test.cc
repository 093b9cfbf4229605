// The canary comparison's parts: the plan a request makes against the registry's view of the
// model (aliases, defaults, refusals with their codes), the candidate's outputs tested against the
// primary's from live summaries, and the comparer over an intake and a fake WindowSource.

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/monitoring/canary/canary_comparer.h"
#include "libs/monitoring/canary/canary_plan.h"
#include "libs/monitoring/canary/prediction_drift.h"
#include "tests/monitoring/intake/intake_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::kStart;
using testing::ToProto;

v1::Model Price() {
  v1::Model model;
  model.set_name("price");
  model.set_task(v1::TASK_REGRESSION);
  model.set_latest_version(3);
  (*model.mutable_aliases())["production"] = 1;
  (*model.mutable_aliases())["candidate"] = 2;
  return model;
}

v1::CompareCanaryRequest Request() {
  v1::CompareCanaryRequest request;
  request.set_model("price");
  return request;
}

TEST_CASE("A canary plan reads the aliases and fills the defaults", "[canary]") {
  absl::StatusOr<CanaryPlan> plan = PlanCanary(Request(), Price(), kStart);
  REQUIRE(plan.ok());
  CHECK(plan->candidate_version == 2);
  CHECK(plan->primary_version == 1);
  CHECK(plan->task == v1::TASK_REGRESSION);
  CHECK(plan->min_labelled == 30);
  CHECK(plan->to == kStart);
  CHECK(plan->from == kStart - absl::Hours(1));

  v1::CompareCanaryRequest named = Request();
  named.set_candidate_version(3);
  named.set_primary_version(2);
  named.set_min_labelled(500);
  *named.mutable_window()->mutable_end_time() = ToProto(kStart - absl::Hours(2));
  plan = PlanCanary(named, Price(), kStart, {absl::Hours(6), 30});
  REQUIRE(plan.ok());
  CHECK(plan->candidate_version == 3);
  CHECK(plan->primary_version == 2);
  CHECK(plan->min_labelled == 500);
  CHECK(plan->to == kStart - absl::Hours(2));
  CHECK(plan->from == kStart - absl::Hours(8));
}

TEST_CASE("A canary plan refuses what cannot be compared, each with its code", "[canary]") {
  const auto code = [](const v1::CompareCanaryRequest& request, const v1::Model& model) {
    return PlanCanary(request, model, kStart).status().code();
  };
  v1::CompareCanaryRequest request = Request();
  request.set_max_degradation(std::nan(""));
  CHECK(code(request, Price()) == absl::StatusCode::kInvalidArgument);
  request = Request();
  request.set_primary_version(-1);
  CHECK(code(request, Price()) == absl::StatusCode::kInvalidArgument);
  request = Request();
  request.set_primary_version(2);  // The candidate's.
  CHECK(code(request, Price()) == absl::StatusCode::kInvalidArgument);
  request = Request();
  request.set_primary_version(4);
  CHECK(code(request, Price()) == absl::StatusCode::kNotFound);
  v1::Model no_production = Price();
  no_production.mutable_aliases()->erase("production");
  CHECK(code(Request(), no_production) == absl::StatusCode::kFailedPrecondition);
  v1::Model no_task = Price();
  no_task.set_task(v1::TASK_UNSPECIFIED);
  CHECK(code(Request(), no_task) == absl::StatusCode::kFailedPrecondition);
}

// A live summary of one output "prediction" holding `values`.
LiveSummaries Outputs(const std::vector<double>& values, const std::string& name = "prediction") {
  LiveSummaries live;
  live.predictions = static_cast<int64_t>(values.size());
  ColumnSummary summary(ColumnSummary::Options{});
  for (const double value : values) summary.AddNumber(value);
  live.outputs.push_back({name, std::move(summary)});
  return live;
}

std::vector<double> Normal(int n, double mean, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(mean, 1.0);
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(normal(rng));
  return values;
}

TEST_CASE("The candidate's outputs are tested against the primary's", "[canary]") {
  const LiveSummaries primary = Outputs(Normal(400, 0, 1));
  absl::StatusOr<std::vector<v1::FeatureDrift>> same =
      PredictionDrift(primary, Outputs(Normal(400, 0, 2)));
  REQUIRE(same.ok());
  REQUIRE(same->size() == 1);
  CHECK((*same)[0].name() == "prediction");
  CHECK((*same)[0].status() == v1::DRIFT_STATUS_NO_DRIFT);
  CHECK((*same)[0].column_type() == "numeric");
  CHECK((*same)[0].count() == 400);
  REQUIRE((*same)[0].scores_size() == 1);
  CHECK((*same)[0].scores(0).metric() == v1::DRIFT_METRIC_KS);  // AUTO: 400 reference rows.
  CHECK((*same)[0].scores(0).has_p_value());
  CHECK((*same)[0].scores(0).auto_selected());

  absl::StatusOr<std::vector<v1::FeatureDrift>> shifted =
      PredictionDrift(primary, Outputs(Normal(400, 1.5, 3)));
  REQUIRE(shifted.ok());
  CHECK((*shifted)[0].status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK((*shifted)[0].scores(0).drifted());

  absl::StatusOr<std::vector<v1::FeatureDrift>> few = PredictionDrift(primary, Outputs({1, 2, 3}));
  REQUIRE(few.ok());
  CHECK((*few)[0].status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA);

  // An output of the candidate only has nothing to be compared with.
  absl::StatusOr<std::vector<v1::FeatureDrift>> other =
      PredictionDrift(primary, Outputs(Normal(400, 0, 4), "score"));
  REQUIRE(other.ok());
  CHECK(other->empty());
}

// Windows of "price": version 1 centred on 0, version 2 on `candidate_mean`; the ranges asked.
class FakeWindows final : public WindowSource {
 public:
  explicit FakeWindows(double candidate_mean) : candidate_mean_(candidate_mean) {}
  absl::Duration window() const override { return absl::Minutes(5); }
  absl::StatusOr<LiveSummaries> Summaries(absl::string_view model, int64_t version, absl::Time from,
                                          absl::Time to) const override {
    asked_.push_back({from, to});
    if (model != "price") return LiveSummaries{};
    return Outputs(Normal(300, version == 2 ? candidate_mean_ : 0, static_cast<uint32_t>(version)));
  }
  absl::StatusOr<std::vector<ActiveVersion>> ActiveVersions(absl::Time, absl::Time) const override {
    return std::vector<ActiveVersion>{};
  }
  mutable std::vector<std::pair<absl::Time, absl::Time>> asked_;

 private:
  double candidate_mean_;
};

TEST_CASE("The comparer adds the prediction drift from the windows of the period compared",
          "[canary]") {
  testing::TestIntake intake;
  FakeWindows windows(2.0);
  CanaryComparerOptions options;
  options.intake = &*intake;
  options.models = [](const std::string&) -> absl::StatusOr<v1::Model> { return Price(); };
  options.windows = &windows;
  options.clock = &intake.clock();
  absl::StatusOr<std::unique_ptr<CanaryComparer>> comparer = CanaryComparer::Create(options);
  REQUIRE(comparer.ok());
  absl::StatusOr<v1::CanaryComparison> comparison = (*comparer)->Compare(Request());
  INFO(comparison.status().ToString());
  REQUIRE(comparison.ok());
  REQUIRE(comparison->prediction_drift_size() == 1);
  CHECK(comparison->prediction_drift(0).status() == v1::DRIFT_STATUS_DRIFTED);
  REQUIRE(windows.asked_.size() == 2);
  CHECK(windows.asked_[0].first == kStart - absl::Hours(1));
  CHECK(windows.asked_[0].second == kStart);
  // No traffic in the intake: no verdict on the metrics.
  CHECK(!comparison->enough_data());
  CHECK(comparison->candidate().prediction_count() == 0);
}

TEST_CASE("The comparer says UNAVAILABLE when the registry cannot answer", "[canary]") {
  testing::TestIntake intake;
  CanaryComparerOptions options;
  options.intake = &*intake;
  options.models = [](const std::string&) -> absl::StatusOr<v1::Model> {
    return absl::DeadlineExceededError("GetModel timed out");
  };
  auto comparer = *CanaryComparer::Create(options);
  CHECK(absl::IsUnavailable(comparer->Compare(Request()).status()));

  options.models = [](const std::string&) -> absl::StatusOr<v1::Model> {
    return absl::NotFoundError("model 'price'");
  };
  comparer = *CanaryComparer::Create(options);
  CHECK(absl::IsNotFound(comparer->Compare(Request()).status()));

  options.models = [](const std::string&) -> absl::StatusOr<v1::Model> { return Price(); };
  options.class_labels = [](const std::string&,
                            int64_t) -> absl::StatusOr<std::vector<std::string>> {
    return absl::UnavailableError("down");
  };
  comparer = *CanaryComparer::Create(options);
  CHECK(absl::IsUnavailable(comparer->Compare(Request()).status()));

  CHECK(absl::IsInvalidArgument(CanaryComparer::Create({}).status()));
}

}  // namespace
}  // namespace fabrique::monitoring
