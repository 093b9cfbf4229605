#include "libs/monitoring/reports/report_engine.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/monitoring/intake/intake_test_util.h"
#include "tests/monitoring/reports/reports_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::kStart;

// The engine over a real intake, reference and report stores, with fake windows and registry.
struct Fixture {
  testing::TestIntake intake{
      [](IntakeOptions& options) { options.retention = absl::ZeroDuration(); }};
  fabrique::testing::TempDir dir;
  testing::FakeVersionRegistry registry;
  testing::FakeWindowSource windows;
  std::unique_ptr<ReferenceStore> reference_store;
  std::unique_ptr<ReferenceProfiles> references;
  std::unique_ptr<ReportStore> reports;
  std::map<std::string, v1::Task> tasks = {{"fraud", v1::TASK_BINARY_CLASSIFICATION}};
  bool known = true;
  std::unique_ptr<ReportEngine> engine;

  Fixture() {
    reference_store = *ReferenceStore::Open({dir.Sub("reference")});
    references = std::make_unique<ReferenceProfiles>(reference_store.get(), &registry);
    ReportStoreOptions report_options;
    report_options.dir = dir.Sub("reports");
    report_options.clock = &intake.clock();
    reports = *ReportStore::Open(report_options);
    ReportEngineOptions options;
    options.windows = &windows;
    options.intake = &*intake;
    options.references = references.get();
    options.reports = reports.get();
    options.task_of = [this](absl::string_view model) {
      auto it = tasks.find(std::string(model));
      return it == tasks.end() ? v1::TASK_UNSPECIFIED : it->second;
    };
    options.known = [this](absl::string_view, int64_t) { return known; };
    options.clock = &intake.clock();
    engine = std::make_unique<ReportEngine>(std::move(options));
  }

  // Logs `n` predictions of fraud:3 a minute apart from kStart, P(1) alternating 0.9 / 0.2, and
  // outcomes for the first `labelled`: label 1 where P was 0.9, so the model is right on all.
  void LogFraud(int n, int labelled) {
    std::vector<v1::PredictionRecord> records;
    std::vector<v1::Outcome> outcomes;
    for (int i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("p", i);
      v1::PredictionRecord record = testing::Prediction(id, "fraud", 3, kStart + absl::Minutes(i));
      v1::ModelOutput* output = record.add_outputs();
      output->set_name("probability");
      output->add_values(i % 2 == 0 ? 0.9f : 0.2f);
      record.set_predicted_label(i % 2 == 0 ? "1" : "0");
      records.push_back(record);
      if (i < labelled) {
        outcomes.push_back(
            testing::OutcomeById(id, testing::Bool(i % 2 == 0), kStart + absl::Minutes(i)));
      }
    }
    testing::AppendPredictions(*intake, "b1", records);
    testing::AppendOutcomes(*intake, "o1", outcomes,
                            [](absl::string_view) { return v1::TASK_BINARY_CLASSIFICATION; });
  }
};

const absl::Time kEnd = kStart + absl::Hours(2);

TEST_CASE("A performance report scores joined outcomes beside the training figures") {
  Fixture f;
  f.registry.AddVersion("fraud", 3, nullptr, {testing::TrainingMetric("auc", 0.8)});
  f.LogFraud(100, 60);
  v1::MonitoringPolicy policy;
  policy.set_min_labelled(50);
  v1::MetricThreshold* floor = policy.add_performance();
  floor->set_metric("accuracy");
  floor->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  floor->set_value(0.9);

  absl::StatusOr<v1::PerformanceReport> report =
      f.engine->ComputePerformanceReport("fraud", 3, kStart, kEnd, policy, absl::Hours(1));
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->prediction_count() == 100);
  CHECK(report->labelled_count() == 60);
  CHECK(report->label_coverage() == Approx(0.6));
  CHECK(report->sufficient_labels());
  CHECK(report->severity() == v1::SEVERITY_OK);
  std::map<std::string, v1::Metric> metrics;
  for (const v1::Metric& metric : report->metrics()) metrics[metric.name()] = metric;
  REQUIRE(metrics.count("auc") == 1);
  CHECK(metrics["auc"].value() == Approx(1.0));
  CHECK(metrics["auc"].split() == "live");
  REQUIRE(metrics["auc"].has_baseline());
  CHECK(metrics["auc"].baseline().value() == Approx(0.8));
  CHECK(metrics["accuracy"].value() == Approx(1.0));
  CHECK(metrics.count("log_loss") == 1);
  CHECK(metrics.count("precision") == 1);
  CHECK(metrics.count("recall") == 1);
  REQUIRE(report->training_metrics_size() == 1);
  // Hourly buckets start on the hour: kStart is 800 s past one, so the first holds 47 minutes.
  REQUIRE(report->buckets_size() == 2);
  CHECK(report->buckets(0).labelled_count() == 47);
  CHECK(report->buckets(1).labelled_count() == 13);

  // Stored under its id.
  REQUIRE_FALSE(report->report_id().empty());
  absl::StatusOr<v1::PerformanceReport> stored = f.reports->GetPerformance(report->report_id());
  REQUIRE(stored.ok());
  CHECK(stored->labelled_count() == 60);
}

TEST_CASE("Too few labels make the metrics indicative; a broken floor makes it WARNING") {
  Fixture f;
  f.registry.AddVersion("fraud", 3);
  f.LogFraud(40, 10);
  v1::MonitoringPolicy policy;
  policy.set_min_labelled(30);
  absl::StatusOr<v1::PerformanceReport> few =
      f.engine->ComputePerformanceReport("fraud", 3, kStart, kEnd, policy);
  REQUIRE(few.ok());
  // Without a series the predictions are counted, not kept.
  CHECK(few->prediction_count() == 40);
  CHECK(few->label_coverage() == Approx(0.25));
  CHECK(few->buckets_size() == 0);
  CHECK_FALSE(few->sufficient_labels());
  CHECK(few->severity() == v1::SEVERITY_INFO);
  CHECK(few->metrics_size() > 0);

  policy.set_min_labelled(5);
  v1::MetricThreshold* floor = policy.add_performance();
  floor->set_metric("accuracy");
  floor->set_op(v1::COMPARISON_OP_GREATER);
  floor->set_value(1.0);
  absl::StatusOr<v1::PerformanceReport> breached =
      f.engine->ComputePerformanceReport("fraud", 3, kStart, kEnd, policy);
  REQUIRE(breached.ok());
  CHECK(breached->severity() == v1::SEVERITY_WARNING);
}

TEST_CASE("Reports refuse an empty window; an unknown task or a silent registry is UNAVAILABLE") {
  Fixture f;
  f.registry.AddVersion("fraud", 3);
  CHECK(absl::IsInvalidArgument(
      f.engine->ComputePerformanceReport("fraud", 3, kEnd, kStart, {}).status()));
  CHECK(absl::IsInvalidArgument(f.engine->ComputeDriftReport("fraud", 3, kEnd, kEnd, {}).status()));
  CHECK(absl::IsUnavailable(
      f.engine->ComputePerformanceReport("churn", 1, kStart, kEnd, {}).status()));
  f.registry.SetDown(true);
  CHECK(absl::IsUnavailable(
      f.engine->ComputePerformanceReport("fraud", 3, kStart, kEnd, {}).status()));
  CHECK(absl::IsUnavailable(f.engine->ComputeDriftReport("fraud", 3, kStart, kEnd, {}).status()));
  // A kept profile carries the training figures, so the registry is not needed then.
  REQUIRE(f.reference_store
              ->Put(testing::Profile("fraud", 3, {{"amount", testing::Numbers({1, 2, 3})}}))
              .ok());
  CHECK(f.engine->ComputePerformanceReport("fraud", 3, kStart, kEnd, {}).ok());
  CHECK(f.engine->ComputeDriftReport("fraud", 3, kStart, kEnd, {}).ok());
}

TEST_CASE("A drift report reads the windows and the registry's profile, and is stored") {
  Fixture f;
  v1::ReferenceProfile profile =
      testing::Profile("fraud", 3, {{"amount", testing::Numbers(testing::Spread(0, 100, 200))}});
  f.registry.AddVersion("fraud", 3, &profile);
  f.windows.Set("fraud", 3, kStart,
                testing::Live(200, {testing::Numbers(testing::Spread(50, 100, 200))}));
  absl::StatusOr<v1::DriftReport> report =
      f.engine->ComputeDriftReport("fraud", 3, kStart, kEnd, {});
  REQUIRE(report.ok());
  CHECK_FALSE(report->no_reference());
  CHECK(report->features(0).status() == v1::DRIFT_STATUS_DRIFTED);
  REQUIRE(report->has_compute_time());
  CHECK(f.reports->GetDrift(report->report_id()).ok());

  // A version the registry does not know: flagged, and without the registry's profile.
  f.known = false;
  absl::StatusOr<v1::DriftReport> unknown =
      f.engine->ComputeDriftReport("fraud", 9, kStart, kEnd, {});
  REQUIRE(unknown.ok());
  CHECK(unknown->unknown_version());
  CHECK(unknown->no_reference());

  // Against a baseline range instead.
  f.windows.Set("fraud", 3, kStart - absl::Hours(24),
                testing::Live(200, {testing::Numbers(testing::Spread(50, 100, 200))}));
  v1::TimeRange baseline;
  baseline.mutable_start_time()->set_seconds(absl::ToUnixSeconds(kStart - absl::Hours(24)));
  baseline.mutable_end_time()->set_seconds(absl::ToUnixSeconds(kStart - absl::Hours(23)));
  f.known = true;
  absl::StatusOr<v1::DriftReport> against =
      f.engine->ComputeDriftReport("fraud", 3, kStart, kEnd, {}, &baseline);
  REQUIRE(against.ok());
  CHECK(against->features(0).status() == v1::DRIFT_STATUS_NO_DRIFT);
  baseline.clear_end_time();
  CHECK(absl::IsInvalidArgument(
      f.engine->ComputeDriftReport("fraud", 3, kStart, kEnd, {}, &baseline).status()));
}

}  // namespace
}  // namespace fabrique::monitoring
