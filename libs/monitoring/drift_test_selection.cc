#include "libs/monitoring/drift_test_selection.h"

namespace fabrique::monitoring {
namespace {

// Evidently's boundaries: up to this many reference rows, the statistical tests; above, the
// distances (a p-value on a large sample flags differences too small to matter).
constexpr int64_t kMaxRowsForStatisticalTests = 1000;
constexpr int64_t kMaxDistinctValuesOfNonNumeric = 5;
constexpr int64_t kMaxDistinctValuesOfBinary = 2;

}  // namespace

absl::string_view DriftTestName(DriftTestKind test) {
  switch (test) {
    case DriftTestKind::kAuto:
      return "auto";
    case DriftTestKind::kPsi:
      return "psi";
    case DriftTestKind::kKs:
      return "ks";
    case DriftTestKind::kWasserstein:
      return "wasserstein";
    case DriftTestKind::kJensenShannon:
      return "jensenshannon";
    case DriftTestKind::kChiSquare:
      return "chisquare";
    case DriftTestKind::kZTest:
      return "z";
  }
  return "unknown";
}

ColumnKind InferColumnKind(bool numeric, int64_t distinct_values) {
  if (numeric && distinct_values > kMaxDistinctValuesOfNonNumeric) return ColumnKind::kNumeric;
  if (distinct_values <= kMaxDistinctValuesOfBinary) return ColumnKind::kBinary;
  return ColumnKind::kCategorical;
}

DriftTestKind SelectTest(ColumnKind kind, int64_t reference_rows) {
  if (reference_rows <= kMaxRowsForStatisticalTests) {
    switch (kind) {
      case ColumnKind::kNumeric:
        return DriftTestKind::kKs;
      case ColumnKind::kCategorical:
        return DriftTestKind::kChiSquare;
      case ColumnKind::kBinary:
        return DriftTestKind::kZTest;
    }
  }
  return kind == ColumnKind::kNumeric ? DriftTestKind::kWasserstein : DriftTestKind::kJensenShannon;
}

DriftThreshold DefaultThreshold(DriftTestKind test) {
  switch (test) {
    case DriftTestKind::kKs:
    case DriftTestKind::kChiSquare:
    case DriftTestKind::kZTest:
    case DriftTestKind::kAuto:
      return {0.05, DriftWhen::kPValueBelow};
    case DriftTestKind::kPsi:
    case DriftTestKind::kWasserstein:
    case DriftTestKind::kJensenShannon:
      return {0.1, DriftWhen::kStatisticAtLeast};
  }
  return {0.05, DriftWhen::kPValueBelow};
}

bool IsDrift(double value, const DriftThreshold& threshold) {
  return threshold.drift_when == DriftWhen::kPValueBelow ? value < threshold.value
                                                         : value >= threshold.value;
}

}  // namespace fabrique::monitoring
