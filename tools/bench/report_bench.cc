// The monitor's report page: how long it takes to make the page of a model with 100 features
// (mixed numeric and categorical) and 30 days of hourly performance, from the monitor's API
// messages, as `fabrique monitor report` and GET /reports/MODEL do after the reports come back:
// the conversion (live numeric distributions read from KLL sketches at the reference's bin
// edges, categories aligned) and the rendering of the self-contained HTML page with its inline
// SVG. The drift and performance computations themselves are not in it.
//
// The baseline, in the same run on the same generator, is the same page for 10 features: the
// figure per feature shows whether the work grows linearly. Each figure is the median of
// --repeats runs.
//
//   report_bench [--features=100] [--days=30] [--repeats=3] [--small]
//
// --small: 20 features and 3 days, one repeat; checks that the page names every feature, draws
// a chart per feature and per metric, and has no script and no URL (tools/bench/run_small).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "libs/monitoring/report/html_report.h"
#include "libs/monitoring/report/report_from_protos.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring::report {
namespace {

const absl::Time kEnd = absl::FromUnixSeconds(1'780'000'000);

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

// A numeric feature: the reference on ten equal-frequency bins of N(0, 1), the live window as a
// sketch of 5,000 values of N(shift, 1).
v1::FeatureDrift NumericFeature(int i, std::mt19937_64& rng) {
  v1::FeatureDrift f;
  f.set_name(absl::StrCat("numeric_feature_", i));
  f.set_column_type("numeric");
  f.set_count(5000);
  const double shift = (i % 7 == 0) ? 0.8 : 0.02 * (i % 5);
  const double edges[] = {-4, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 4};
  v1::NumericSummary* reference = f.mutable_reference()->mutable_numeric();
  for (double e : edges) reference->add_bin_edges(e);
  for (int b = 0; b < 10; ++b) reference->add_bin_fractions(0.1);
  QuantileSketch live;
  std::normal_distribution<double> normal(shift, 1);
  for (int n = 0; n < 5000; ++n) live.Update(normal(rng));
  f.mutable_live()->mutable_numeric()->set_quantile_sketch(live.Serialize());
  v1::DriftScore* score = f.add_scores();
  score->set_metric(v1::DRIFT_METRIC_WASSERSTEIN);
  score->set_value(std::abs(shift));
  score->set_threshold(0.1);
  score->set_drift_when(v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  score->set_enough_data(true);
  score->set_drifted(std::abs(shift) >= 0.1);
  f.set_status(score->drifted() ? v1::DRIFT_STATUS_DRIFTED : v1::DRIFT_STATUS_NO_DRIFT);
  return f;
}

// A categorical feature with 8 to 20 categories, one of them new in the live window.
v1::FeatureDrift CategoricalFeature(int i) {
  v1::FeatureDrift f;
  f.set_name(absl::StrCat("categorical_feature_", i));
  f.set_column_type("categorical");
  const int categories = 8 + i % 13;
  for (int c = 0; c < categories; ++c) {
    v1::CategoryFrequency* ref = f.mutable_reference()->mutable_categorical()->add_categories();
    ref->set_value(absl::StrCat("value_", c));
    ref->set_fraction(1.0 / categories);
    v1::CategoryFrequency* live = f.mutable_live()->mutable_categorical()->add_categories();
    live->set_value(absl::StrCat("value_", c == categories - 1 ? 99 : c));
    live->set_fraction(1.0 / categories);
  }
  v1::DriftScore* score = f.add_scores();
  score->set_metric(v1::DRIFT_METRIC_CHI_SQUARED);
  score->set_value(3.1 + i);
  score->mutable_p_value()->set_value(i % 9 == 0 ? 0.001 : 0.4);
  score->set_threshold(0.05);
  score->set_drift_when(v1::DRIFT_WHEN_P_VALUE_BELOW);
  score->set_enough_data(true);
  score->set_drifted(score->p_value().value() < 0.05);
  f.set_status(score->drifted() ? v1::DRIFT_STATUS_DRIFTED : v1::DRIFT_STATUS_NO_DRIFT);
  return f;
}

ReportProtos MakeInputs(int features, int days) {
  std::mt19937_64 rng(7);
  ReportProtos protos;
  protos.model = "bench_model";
  protos.to = kEnd;
  protos.from = kEnd - absl::Hours(24 * days);
  protos.generated_at = kEnd;
  v1::DriftReport& drift = protos.drift.emplace();
  drift.mutable_model_version()->set_model(protos.model);
  drift.mutable_model_version()->set_version(4);
  drift.set_prediction_count(1'000'000);
  for (int i = 0; i < features; ++i) {
    // Three numeric features in five, as tabular models tend to have.
    *drift.add_features() = i % 5 < 3 ? NumericFeature(i, rng) : CategoricalFeature(i);
  }
  v1::PerformanceReport& performance = protos.performance.emplace();
  performance.mutable_model_version()->set_model(protos.model);
  performance.mutable_model_version()->set_version(4);
  performance.set_labelled_count(400'000);
  performance.set_sufficient_labels(true);
  std::uniform_real_distribution<double> noise(-0.01, 0.01);
  const char* names[] = {"auc", "accuracy", "log_loss"};
  const double values[] = {0.85, 0.8, 0.4};
  for (int m = 0; m < 3; ++m) {
    v1::Metric* metric = performance.add_metrics();
    metric->set_name(names[m]);
    metric->set_value(values[m]);
    metric->set_higher_is_better(m < 2);
    v1::Metric* trained = performance.add_training_metrics();
    *trained = *metric;
  }
  for (int h = 0; h < 24 * days; ++h) {
    v1::PerformanceBucket* bucket = performance.add_buckets();
    SetTime(protos.from + absl::Hours(h), bucket->mutable_window()->mutable_start_time());
    SetTime(protos.from + absl::Hours(h + 1), bucket->mutable_window()->mutable_end_time());
    bucket->set_labelled_count(500);
    for (int m = 0; m < 3; ++m) {
      v1::Metric* metric = bucket->add_metrics();
      metric->set_name(names[m]);
      metric->set_value(values[m] + noise(rng));
    }
  }
  for (int a = 0; a < 5; ++a) {
    v1::Alert alert;
    alert.set_id(absl::StrCat("alert-", a));
    alert.set_kind(v1::ALERT_KIND_FEATURE_DRIFT);
    alert.set_state(v1::ALERT_STATE_FIRING);
    alert.set_severity(a == 0 ? v1::SEVERITY_CRITICAL : v1::SEVERITY_WARNING);
    alert.set_summary(absl::StrCat("Wasserstein 0.8 on numeric_feature_", 7 * a));
    SetTime(kEnd - absl::Hours(5 + a), alert.mutable_fire_time());
    protos.alerts.push_back(alert);
  }
  return protos;
}

struct Timing {
  double median_seconds = 0;
  size_t page_bytes = 0;
  std::string page;
};

Timing Measure(const ReportProtos& inputs, int repeats) {
  std::vector<double> seconds;
  Timing timing;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    std::string page = RenderHtmlReport(ReportFromProtos(inputs));
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    timing.page = std::move(page);
  }
  std::sort(seconds.begin(), seconds.end());
  timing.median_seconds = seconds[seconds.size() / 2];
  timing.page_bytes = timing.page.size();
  return timing;
}

// The page's own checks; returns the failures.
std::vector<std::string> Check(const std::string& page, const ReportProtos& inputs) {
  std::vector<std::string> failures;
  for (const v1::FeatureDrift& f : inputs.drift->features()) {
    if (!absl::StrContains(page, f.name())) failures.push_back("missing " + f.name());
  }
  int charts = 0;
  for (size_t at = page.find("<svg "); at != std::string::npos; at = page.find("<svg ", at + 1)) {
    ++charts;
  }
  const int expected = inputs.drift->features_size() + inputs.performance->metrics_size();
  if (charts != expected) {
    failures.push_back(absl::StrCat(charts, " charts drawn, expected ", expected));
  }
  for (const char* banned : {"<script", "http://", "https://", "src=", "url("}) {
    if (absl::StrContains(page, banned)) failures.push_back(absl::StrCat("has ", banned));
  }
  return failures;
}

}  // namespace
}  // namespace fabrique::monitoring::report

int main(int argc, char** argv) {
  namespace report = fabrique::monitoring::report;
  int features = 100;
  int days = 30;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--features=")) (void)absl::SimpleAtoi(arg.substr(11), &features);
    if (absl::StartsWith(arg, "--days=")) (void)absl::SimpleAtoi(arg.substr(7), &days);
    if (absl::StartsWith(arg, "--repeats=")) (void)absl::SimpleAtoi(arg.substr(10), &repeats);
    if (arg == "--small") {
      features = 20;
      days = 3;
      repeats = 1;
    }
  }
  const int baseline_features = std::max(1, features / 10);
  const report::ReportProtos inputs = report::MakeInputs(features, days);
  const report::ReportProtos baseline_inputs = report::MakeInputs(baseline_features, days);
  const report::Timing full = report::Measure(inputs, repeats);
  const report::Timing baseline = report::Measure(baseline_inputs, repeats);
  std::printf(
      "report_bench: page of %d features (3 numeric in 5, live side from KLL sketches), "
      "%d days of hourly performance (%d buckets x 3 metrics), 5 alerts; median of %d\n",
      features, days, 24 * days, repeats);
  std::printf("  %-34s %9.4f s  page %7.1f KiB\n",
              absl::StrCat("report, ", features, " features").c_str(), full.median_seconds,
              full.page_bytes / 1024.0);
  std::printf("  %-34s %9.4f s  page %7.1f KiB\n",
              absl::StrCat("baseline: report, ", baseline_features, " features").c_str(),
              baseline.median_seconds, baseline.page_bytes / 1024.0);
  // What each feature past the baseline's adds; the rest is the performance charts and summary.
  if (features > baseline_features) {
    std::printf(
        "  %-34s %9.3f ms\n", "each further feature",
        1000 * (full.median_seconds - baseline.median_seconds) / (features - baseline_features));
  }
  const std::vector<std::string> failures = report::Check(full.page, inputs);
  for (const std::string& failure : failures) std::printf("CHECK FAILED: %s\n", failure.c_str());
  if (!failures.empty()) return 1;
  std::printf(
      "  checks: every feature named, one chart per feature and metric, no script or URL\n");
  return 0;
}
