#include "tests/monitoring/report/sample_report.h"

#include <cmath>
#include <string>
#include <vector>

namespace fabrique::monitoring::report {
namespace {

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 12, day, hour, minute), absl::UTCTimeZone());
}

// Shares of a normal curve over `bins` bins of [-3, 3] shifted by `shift`, for a plausible
// histogram without randomness.
std::vector<double> Bell(int bins, double shift, double spread) {
  std::vector<double> shares(bins);
  double total = 0;
  for (int i = 0; i < bins; ++i) {
    const double middle = -3 + 6.0 * (i + 0.5) / bins;
    shares[i] = std::exp(-0.5 * std::pow((middle - shift) / spread, 2));
    total += shares[i];
  }
  for (double& share : shares) share /= total;
  return shares;
}

FeatureReport Numeric(std::string name, std::string test, double statistic,
                      std::optional<double> p_value, double threshold, bool drifted, double shift) {
  FeatureReport f;
  f.name = std::move(name);
  f.kind = FeatureKind::kNumeric;
  f.test = std::move(test);
  f.statistic = statistic;
  f.p_value = p_value;
  f.threshold = threshold;
  f.drift_when = p_value.has_value() ? DriftWhen::kPValueBelow : DriftWhen::kStatisticAtLeast;
  f.drifted = drifted;
  constexpr int kBins = 20;
  for (int i = 0; i <= kBins; ++i) f.distribution.bin_edges.push_back(-3 + 6.0 * i / kBins);
  f.distribution.reference_shares = Bell(kBins, 0, 1);
  f.distribution.current_shares = Bell(kBins, shift, 1 + shift / 4);
  f.reference_missing_rate = 0.01;
  f.current_missing_rate = drifted ? 0.04 : 0.01;
  return f;
}

FeatureReport Categorical(std::string name, std::vector<std::string> categories,
                          std::vector<double> reference, std::vector<double> current,
                          double statistic, bool drifted) {
  FeatureReport f;
  f.name = std::move(name);
  f.kind = FeatureKind::kCategorical;
  f.test = "jensenshannon";
  f.statistic = statistic;
  f.threshold = 0.1;
  f.drift_when = DriftWhen::kStatisticAtLeast;
  f.drifted = drifted;
  f.distribution.categories = std::move(categories);
  f.distribution.reference_shares = std::move(reference);
  f.distribution.current_shares = std::move(current);
  return f;
}

MetricSeries Series(std::string metric, double training, double start, double end) {
  MetricSeries series{std::move(metric), {}, training, true};
  for (int hour = 0; hour < 24; ++hour) {
    // Steady until 14:00, then sliding towards `end`, with a small fixed wobble.
    const double slide = hour < 14 ? 0 : (hour - 13) / 10.0;
    const double value = start + (end - start) * slide + 0.004 * std::sin(hour * 1.7);
    series.points.push_back({At(3, hour), value, 380 + 11 * hour});
  }
  return series;
}

}  // namespace

ReportModel SampleReport() {
  ReportModel model;
  model.model = "credit-default";
  model.versions = {"7"};
  model.period_from = At(2, 23, 30);
  model.period_to = At(3, 23, 30);
  model.generated_at = At(3, 23, 30);
  model.health = Health::kDrifting;
  model.health_reason =
      "Applicants since 14:00 ask for larger amounts and use the mobile channel far more than "
      "in training.";
  model.health_since = At(3, 14);
  model.features = {
      Numeric("age", "wasserstein", 0.02, std::nullopt, 0.1, false, 0.05),
      Numeric("amount", "wasserstein", 0.34, std::nullopt, 0.1, true, 1.0),
      Numeric("income", "wasserstein", 0.04, std::nullopt, 0.1, false, -0.1),
      Numeric("duration_months", "ks", 0.21, 0.0004, 0.05, true, 0.5),
      Numeric("debt_ratio", "ks", 0.05, 0.41, 0.05, false, 0.02),
      Numeric("credit_history_years", "wasserstein", 0.07, std::nullopt, 0.1, false, 0.2),
      Categorical("channel", {"branch", "web", "mobile", "partner"}, {0.4, 0.35, 0.15, 0.1},
                  {0.2, 0.3, 0.42, 0.08}, 0.23, true),
      Categorical("region", {"north", "south", "east", "west"}, {0.25, 0.25, 0.3, 0.2},
                  {0.26, 0.24, 0.29, 0.21}, 0.02, false),
      Categorical("housing", {"own", "rent", "free"}, {0.6, 0.3, 0.1}, {0.58, 0.32, 0.1}, 0.03,
                  false),
      Categorical("purpose",
                  {"car", "furniture", "radio/TV", "appliances", "repairs", "education", "vacation",
                   "retraining", "business", "other"},
                  {0.25, 0.18, 0.2, 0.05, 0.03, 0.06, 0.02, 0.01, 0.1, 0.1},
                  {0.24, 0.19, 0.19, 0.06, 0.03, 0.06, 0.02, 0.01, 0.1, 0.1}, 0.04, false),
      Numeric("dependents", "chisquare", 1.2, 0.55, 0.05, false, 0.0),
      Numeric("employment_years", "wasserstein", 0.0, std::nullopt, 0.1, false, 0.0),
  };
  // Too few current values for a verdict: the employment service was down.
  model.features.back().enough_data = false;
  model.features.back().statistic = std::nan("");
  model.features.back().current_missing_rate = 0.97;
  model.performance = {Series("accuracy", 0.87, 0.865, 0.81), Series("auc", 0.91, 0.905, 0.86)};
  model.alerts = {
      {"drift-amount", "warning", "amount drifted: Wasserstein 0.34 > 0.1 since 14:00"},
      {"accuracy-below-training", "critical", "accuracy 0.81 is 6 points below training"},
  };
  return model;
}

ReportModel HealthySampleReport() {
  ReportModel model = SampleReport();
  model.health = Health::kHealthy;
  model.health_reason = "Every feature is within its threshold and accuracy holds at 0.87.";
  model.health_since.reset();
  for (FeatureReport& f : model.features) {
    f.drifted = false;
    f.enough_data = true;
    f.current_missing_rate = f.reference_missing_rate;
    if (f.distribution.bin_edges.empty()) {
      f.distribution.current_shares = f.distribution.reference_shares;
    } else {
      f.distribution.current_shares = Bell(20, 0.02, 1);
    }
    f.statistic = f.p_value.has_value() ? 0.04 : 0.02;
    if (f.p_value.has_value()) f.p_value = 0.62;
  }
  model.performance = {Series("accuracy", 0.87, 0.868, 0.868), Series("auc", 0.91, 0.909, 0.909)};
  model.alerts.clear();
  return model;
}

ReportModel EmptySampleReport() {
  ReportModel model;
  model.model = "churn-v2";
  model.versions = {"1"};
  model.period_from = At(3, 20);
  model.period_to = At(3, 23, 30);
  model.generated_at = At(3, 23, 30);
  model.health = Health::kNotEnoughData;
  model.health_reason = "The model was deployed at 20:00 and has served 12 predictions so far.";
  return model;
}

}  // namespace fabrique::monitoring::report
