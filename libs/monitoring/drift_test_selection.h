#ifndef FABRIQUE_LIBS_MONITORING_DRIFT_TEST_SELECTION_H_
#define FABRIQUE_LIBS_MONITORING_DRIFT_TEST_SELECTION_H_

// Which drift test a column gets, and when its result means drift.
//
// AUTO follows Evidently's documented defaults ("Data drift algorithm",
// https://docs-old.evidentlyai.com/reference/data-drift-algorithm; in its source,
// src/evidently/legacy/calculations/stattests/registry.py, _get_default_stattest), counting
// rows and distinct values after missing values are dropped, as Evidently does before choosing:
//
//   reference rows <= 1000: numeric with > 5 distinct values -> Kolmogorov–Smirnov;
//                           otherwise > 2 distinct values -> chi-square, else -> Z-test;
//   reference rows  > 1000: numeric with > 5 distinct values -> Wasserstein (normalised);
//                           otherwise -> Jensen–Shannon.
//
// Distinct values are counted over both windows together, as Evidently counts them.
// Default thresholds are Evidently's: a p-value below 0.05 is drift (KS, chi-square, Z); a
// distance of at least 0.1 is drift (Wasserstein normalised by the reference's standard
// deviation, Jensen–Shannon, PSI). Evidently's KS alone flags a p-value equal to its threshold
// too; a p-value exactly 0.05 is too rare to keep a second direction for.

#include <cstdint>

#include "absl/strings/string_view.h"

namespace fabrique::monitoring {

enum class DriftTestKind { kAuto, kPsi, kKs, kWasserstein, kJensenShannon, kChiSquare, kZTest };

// What a column's values are: numbers with more than 5 distinct values; categories (or numbers
// with 3 to 5 distinct values); or at most two distinct values.
enum class ColumnKind { kNumeric, kCategorical, kBinary };

// Which side of its threshold a test's result must fall on to mean drift.
enum class DriftWhen {
  kPValueBelow,      // p-value < threshold
  kStatisticAtLeast  // statistic >= threshold
};

struct DriftThreshold {
  double value = 0;
  DriftWhen drift_when = DriftWhen::kPValueBelow;
};

// Returns the test's short name ("ks", "wasserstein", "psi", "jensenshannon", "chisquare", "z",
// "auto"), Evidently's names.
absl::string_view DriftTestName(DriftTestKind test);

// Returns the kind of a column with `distinct_values` distinct non-missing values.
// `numeric` says whether its values are numbers (categories are never kNumeric).
ColumnKind InferColumnKind(bool numeric, int64_t distinct_values);

// Returns Evidently's default test for a column of this kind with this many non-missing
// reference rows. Never returns kAuto.
DriftTestKind SelectTest(ColumnKind kind, int64_t reference_rows);

// Returns the test's default threshold and direction. `test` must not be kAuto.
DriftThreshold DefaultThreshold(DriftTestKind test);

// Whether `value` (the p-value or the statistic, as the threshold says) means drift.
bool IsDrift(double value, const DriftThreshold& threshold);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_DRIFT_TEST_SELECTION_H_
