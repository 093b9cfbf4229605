#include "libs/monitoring/column_drift.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fabrique::monitoring {
namespace {

void SetVerdict(double statistic, std::optional<double> p_value, DriftResult& result) {
  result.statistic = statistic;
  result.p_value = p_value;
  result.drifted = IsDrift(p_value.value_or(statistic), result.threshold);
}

// Runs the tests that work on counts per category or bin; `binned` is what PSI and
// Jensen–Shannon see (bins of a numeric column), `categories` what chi-square and Z see.
absl::Status RunCountTest(const AlignedCounts& binned, const AlignedCounts& categories,
                          DriftResult& result) {
  switch (result.test) {
    case DriftTestKind::kPsi: {
      absl::StatusOr<double> psi = Psi(binned);
      if (!psi.ok()) return psi.status();
      SetVerdict(*psi, std::nullopt, result);
      return absl::OkStatus();
    }
    case DriftTestKind::kJensenShannon: {
      absl::StatusOr<double> distance = JensenShannon(binned);
      if (!distance.ok()) return distance.status();
      SetVerdict(*distance, std::nullopt, result);
      return absl::OkStatus();
    }
    case DriftTestKind::kChiSquare: {
      absl::StatusOr<ChiSquareResult> chi = ChiSquare(categories);
      if (!chi.ok()) return chi.status();
      SetVerdict(chi->statistic, chi->p_value, result);
      return absl::OkStatus();
    }
    case DriftTestKind::kZTest: {
      absl::StatusOr<ZTestResult> z = ZTestProportions(categories);
      if (!z.ok()) return z.status();
      SetVerdict(z->statistic, z->p_value, result);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("the ", DriftTestName(result.test), " test needs numbers, not categories"));
  }
}

int64_t CountDistinct(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> both(a);
  both.insert(both.end(), b.begin(), b.end());
  for (double& value : both) value += 0.0;  // -0 and +0 are one value
  std::sort(both.begin(), both.end());
  return std::unique(both.begin(), both.end()) - both.begin();
}

}  // namespace

absl::StatusOr<DriftResult> EvaluateColumn(absl::Span<const double> reference,
                                           absl::Span<const double> current,
                                           const DriftOptions& options) {
  const NumericSample ref = DropMissing(reference), cur = DropMissing(current);
  absl::StatusOr<DriftResult> result = PrepareDriftResult(
      static_cast<int64_t>(ref.values.size()), static_cast<int64_t>(cur.values.size()),
      CountDistinct(ref.values, cur.values), /*numeric=*/true, options);
  if (!result.ok()) return result.status();
  result->reference_missing = ref.missing;
  result->current_missing = cur.missing;
  if (!result->enough_data) return result;
  if (result->test == DriftTestKind::kKs) {
    absl::StatusOr<KsResult> ks = Ks2Samp(ref.values, cur.values);
    if (!ks.ok()) return ks.status();
    SetVerdict(ks->statistic, ks->p_value, *result);
    return result;
  }
  if (result->test == DriftTestKind::kWasserstein) {
    absl::StatusOr<WassersteinResult> distance = Wasserstein(ref.values, cur.values);
    if (!distance.ok()) return distance.status();
    SetVerdict(distance->normalised, std::nullopt, *result);
    return result;
  }
  const AlignedCounts values = AlignValues(ref.values, cur.values);
  const bool binned =
      result->test == DriftTestKind::kPsi || result->test == DriftTestKind::kJensenShannon;
  const AlignedCounts bins = binned ? BinForDistance(ref.values, cur.values) : values;
  if (absl::Status status = RunCountTest(bins, values, *result); !status.ok()) return status;
  return result;
}

absl::StatusOr<DriftResult> EvaluateColumn(const CategoricalColumn& reference,
                                           const CategoricalColumn& current,
                                           const DriftOptions& options) {
  int64_t reference_rows = 0, current_rows = 0;
  for (const CategoricalColumn* column : {&reference, &current}) {
    for (const auto& [category, count] : column->counts) {
      if (count < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("category \"", category, "\" has a negative count, ", count));
      }
      (column == &reference ? reference_rows : current_rows) += count;
    }
  }
  const AlignedCounts categories = AlignCategories(reference.counts, current.counts);
  absl::StatusOr<DriftResult> result = PrepareDriftResult(
      reference_rows, current_rows, static_cast<int64_t>(categories.categories.size()),
      /*numeric=*/false, options);
  if (!result.ok()) return result.status();
  result->reference_missing = reference.missing;
  result->current_missing = current.missing;
  if (result->test == DriftTestKind::kKs || result->test == DriftTestKind::kWasserstein) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", DriftTestName(result->test), " test needs numbers, not categories"));
  }
  if (!result->enough_data) return result;
  if (absl::Status status = RunCountTest(categories, categories, *result); !status.ok()) {
    return status;
  }
  return result;
}

absl::StatusOr<DriftResult> PrepareDriftResult(int64_t reference_rows, int64_t current_rows,
                                               int64_t distinct_values, bool numeric,
                                               const DriftOptions& options) {
  if (options.min_rows < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_rows must be at least 1, not ", options.min_rows));
  }
  DriftResult result;
  result.reference_rows = reference_rows;
  result.current_rows = current_rows;
  result.column_kind = InferColumnKind(numeric, distinct_values);
  result.test = options.test == DriftTestKind::kAuto
                    ? SelectTest(result.column_kind, reference_rows)
                    : options.test;
  result.threshold = DefaultThreshold(result.test);
  if (options.threshold.has_value()) result.threshold.value = *options.threshold;
  result.enough_data = reference_rows >= options.min_rows && current_rows >= options.min_rows;
  return result;
}

DatasetDriftResult DatasetDrift(absl::Span<const DriftResult> results, double share_threshold) {
  DatasetDriftResult dataset;
  dataset.columns = static_cast<int64_t>(results.size());
  dataset.share_threshold = share_threshold;
  for (const DriftResult& result : results) {
    dataset.evaluated_columns += result.enough_data ? 1 : 0;
    dataset.drifted_columns += (result.enough_data && result.drifted) ? 1 : 0;
  }
  if (dataset.evaluated_columns == 0) return dataset;
  dataset.drifted_share =
      static_cast<double>(dataset.drifted_columns) / static_cast<double>(dataset.evaluated_columns);
  dataset.drifted = dataset.drifted_share >= share_threshold;
  return dataset;
}

}  // namespace fabrique::monitoring
