#ifndef FABRIQUE_LIBS_MONITORING_REPORT_REPORT_MODEL_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_REPORT_MODEL_H_

// What the monitor's report shows, as plain values: the model and period, the overall health,
// each feature's drift verdict with its two distributions, performance over time beside the
// training figure, and the alerts firing. The monitor fills it from its drift results
// (libs/monitoring/column_drift.h) and back-testing; the renderer needs nothing else.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace fabrique::monitoring::report {

enum class Health {
  kHealthy,       // no feature drifted and performance holds
  kDrifting,      // some features drifted
  kDegraded,      // performance fell below what training promised
  kNotEnoughData  // too few values in the period for a verdict
};

// What a feature's values are (column_drift.h's ColumnKind).
enum class FeatureKind { kNumeric, kCategorical, kBinary };

// Which side of the threshold means drift (column_drift.h's DriftWhen).
enum class DriftWhen {
  kPValueBelow,      // p-value < threshold
  kStatisticAtLeast  // statistic >= threshold
};

// A feature's values in the reference (training) window and in the current window, as shares
// of the non-missing rows. Numeric features: `bin_edges` has one more entry than each share
// vector (bin i is [bin_edges[i], bin_edges[i+1])). Categorical and binary features:
// `categories` has one entry per share. Empty: the distribution is not known.
struct Distribution {
  std::vector<double> bin_edges;
  std::vector<std::string> categories;
  std::vector<double> reference_shares;
  std::vector<double> current_shares;
};

struct FeatureReport {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  // Evidently's short name of the test that ran: "ks", "wasserstein", "psi", "jensenshannon",
  // "chisquare", "z" (drift_test_selection.h's DriftTestName); another name is shown as given.
  std::string test;
  double statistic = std::numeric_limits<double>::quiet_NaN();  // NaN without enough data
  std::optional<double> p_value;                                // for KS, chi-square and Z
  double threshold = 0;
  DriftWhen drift_when = DriftWhen::kPValueBelow;
  bool drifted = false;
  bool enough_data = true;
  Distribution distribution;
  double reference_missing_rate = 0;  // share of rows with no value, in [0, 1]
  double current_missing_rate = 0;
};

// One window of back-testing: the metric on the predictions whose outcomes were known.
struct PerformancePoint {
  absl::Time window_start;
  double value = 0;
  int64_t labelled_count = 0;
};

struct MetricSeries {
  std::string metric;                    // "accuracy", "auc", "rmse", ...
  std::vector<PerformancePoint> points;  // in time order
  std::optional<double> training_value;  // the figure measured on the hold-out at training
  bool higher_is_better = true;          // false for errors (rmse, mae, log loss)
};

struct Alert {
  std::string id;
  std::string severity;  // "critical", "warning", "info"
  std::string summary;
};

struct ReportModel {
  std::string model;
  std::vector<std::string> versions;  // the versions served in the period
  absl::Time period_from;
  absl::Time period_to;
  absl::Time generated_at;
  Health health = Health::kNotEnoughData;
  std::string health_reason;               // one sentence, shown under the summary
  std::optional<absl::Time> health_since;  // when the health last changed
  std::vector<FeatureReport> features;
  std::vector<MetricSeries> performance;
  std::vector<Alert> alerts;  // firing now
};

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_REPORT_MODEL_H_
