#include "libs/monitoring/summary_drift.h"

// How each statistic is read from summaries, and what its error_bound states. The bounds hold
// whenever the sketches' own stated rank errors do (QuantileSketch: at 99% confidence, for every
// point at once); they are 0 when both sketches hold every value, since the result is then
// column_drift.h's on the values themselves.
//
// - KS: D is the largest |F_ref - F_cur| over every point either summary keeps (the CDFs are
//   linear between them). Each estimated CDF is within its rank error e of the exact one at
//   every x, so |D - D_exact| <= e_ref + e_cur (plus half a lattice step when both counts are
//   at most 10,000, where D is rounded to the exact p-value's lattice, as scipy does). The
//   p-value is KsPValue's for D and the two counts (the asymptotic distribution with
//   n = round(n1·n2 / (n1 + n2)) above 10,000 values).
// - Wasserstein: ∫ |F_ref - F_cur| dx between the kept points. Outside [min, max] of a summary
//   its CDF is exact (0 or 1: min and max are kept exactly), so |W - W_exact| <= e_ref·(max_ref
//   - min_ref) + e_cur·(max_cur - min_cur), and less where the CDFs are near 0 or 1
//   (summary_cdf.h's WassersteinErrorBound); normalised, divided by the reference's standard
//   deviation (kept exactly, floored at 0.001 as Evidently does).
// - PSI and Jensen–Shannon on a numeric column: Evidently's sturges bins over both windows'
//   min..max and count (all kept exactly, so the bins are Evidently's own), with each bin's
//   share read from the CDF; a sketch's share between two points is within its rank error, a
//   profile's bins' within twice theirs. The statistic's bound is share_error_bounds.h's.
// - A reference with at most 20 distinct values is compared value by value, and so is a column
//   with at most 5 distinct values (chi-square, Z, or distances on its values): a compacted
//   sketch may have dropped values, whose total share is at most its rank error per gap between
//   the values it kept; the distances' bounds count it, chi-square and Z state no bound
//   (error_bound is +inf: an unseen category can move them without limit).
// - Categories: counted exactly, so the result is column_drift.h's on the counts; but a
//   summary whose categories overflowed its cap counts the rest in one bucket whose categories
//   are unknown: that bucket is one more category, and error_bound is +inf.
// - Missing values: NaN is counted exactly. ±inf is missing too (as on exact data), but the
//   summary's sketch holds it as a value: once the sketch compacts, its count of them (and so
//   the finite count) is within the sketch's rank error, and the bounds above assume none.
// - Distinct values: exact while both sketches hold every value; otherwise those the sketches
//   kept, a lower bound (a compacted sketch keeping more than 5 is numeric for sure). A profile
//   made before sketches keeps only bins: its column is numeric.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/monitoring/share_error_bounds.h"
#include "libs/monitoring/summary_cdf.h"

namespace fabrique::monitoring {
namespace {

// Evidently bins a numeric column for PSI and Jensen–Shannon only when its reference has more
// distinct values than this (drift_statistics.h's BinForDistance).
constexpr int64_t kMaxDistinctValuesAsCategories = 20;
// The name given to the categories a summary counted without names (over its cap).
constexpr char kOtherCategories[] = "(other categories)";
constexpr double kNoBound = std::numeric_limits<double>::infinity();

// One numeric window as the statistics read it.
struct NumericWindow {
  SummaryCdf cdf;
  const QuantileSketch* sketch = nullptr;  // null for a profile's bins
  int64_t missing = 0;                     // the summary's, without ±inf
  double stddev = 0;
};

void SetVerdict(double statistic, std::optional<double> p_value, double error_bound,
                DriftResult& result) {
  result.statistic = statistic;
  result.p_value = p_value;
  result.error_bound = error_bound;
  result.drifted = IsDrift(p_value.value_or(statistic), result.threshold);
}

std::vector<double> Values(const QuantileSketch& sketch) {
  std::vector<double> values;
  values.reserve(static_cast<size_t>(sketch.count()));
  for (const QuantileSketch::WeightedValue& item : sketch.SortedView()) {
    values.insert(values.end(), static_cast<size_t>(item.weight), item.value);
  }
  return values;
}

// Both sketches hold every value: the statistics on the values themselves.
absl::StatusOr<DriftResult> EvaluateValues(const NumericWindow& reference,
                                           const NumericWindow& current,
                                           const DriftOptions& options) {
  absl::StatusOr<DriftResult> result =
      EvaluateColumn(Values(*reference.sketch), Values(*current.sketch), options);
  if (!result.ok()) return result.status();
  result->reference_missing += reference.missing;
  result->current_missing += current.missing;
  return result;
}

// The share error of one bin or value read from `cdf`: a sketch states the error of a share
// between two points; bins state the error of each point.
double ShareError(const SummaryCdf& cdf) {
  return cdf.from_sketch() ? cdf.rank_error() : 2 * cdf.rank_error();
}

EstimatedShares Estimate(const SummaryCdf& cdf, std::vector<double> shares, double unseen) {
  EstimatedShares estimate;
  estimate.shares = std::move(shares);
  estimate.error = ShareError(cdf);
  estimate.unseen = std::min(unseen, 1.0);
  estimate.count = cdf.count();
  return estimate;
}

AlignedCounts Counts(std::vector<std::string> categories, const EstimatedShares& reference,
                     const EstimatedShares& current) {
  AlignedCounts counts;
  counts.categories = std::move(categories);
  for (size_t i = 0; i < counts.categories.size(); ++i) {
    counts.reference.push_back(reference.shares[i] * static_cast<double>(reference.count));
    counts.current.push_back(current.shares[i] * static_cast<double>(current.count));
  }
  return counts;
}

// PSI, Jensen–Shannon, chi-square or Z on estimated shares, with the bound of the distances.
absl::Status RunOnShares(std::vector<std::string> categories, const EstimatedShares& reference,
                         const EstimatedShares& current, bool exact, DriftResult& result) {
  const AlignedCounts counts = Counts(std::move(categories), reference, current);
  switch (result.test) {
    case DriftTestKind::kPsi: {
      absl::StatusOr<double> psi = Psi(counts);
      if (!psi.ok()) return psi.status();
      SetVerdict(*psi, std::nullopt, exact ? 0 : PsiErrorBound(reference, current, *psi), result);
      return absl::OkStatus();
    }
    case DriftTestKind::kJensenShannon: {
      absl::StatusOr<double> distance = JensenShannon(counts);
      if (!distance.ok()) return distance.status();
      SetVerdict(*distance, std::nullopt,
                 exact ? 0 : JensenShannonErrorBound(reference, current, *distance), result);
      return absl::OkStatus();
    }
    case DriftTestKind::kChiSquare: {
      absl::StatusOr<ChiSquareResult> chi = ChiSquare(counts);
      if (!chi.ok()) return chi.status();
      SetVerdict(chi->statistic, chi->p_value, exact ? 0 : kNoBound, result);
      return absl::OkStatus();
    }
    case DriftTestKind::kZTest: {
      absl::StatusOr<ZTestResult> z = ZTestProportions(counts);
      if (!z.ok()) return z.status();
      SetVerdict(z->statistic, z->p_value, exact ? 0 : kNoBound, result);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("the ", DriftTestName(result.test), " test does not count"));
  }
}

// Each value kept by either summary is a category; its share is the jump of the CDF there.
absl::Status RunOnValues(const NumericWindow& reference, const NumericWindow& current,
                         const std::vector<double>& values, DriftResult& result) {
  std::vector<std::string> categories;
  std::vector<double> reference_shares, current_shares;
  for (double x : values) {
    categories.push_back(absl::StrFormat("%.17g", x));
    reference_shares.push_back(reference.cdf.At(x) - reference.cdf.Below(x));
    current_shares.push_back(current.cdf.At(x) - current.cdf.Below(x));
  }
  // Values a compacted sketch dropped lie in the gaps between the kept ones, at most its share
  // error in each.
  const double gaps = static_cast<double>(std::max<size_t>(values.size(), 1) - 1);
  const auto unseen = [gaps](const SummaryCdf& cdf) {
    return cdf.exact() ? 0.0 : gaps * ShareError(cdf);
  };
  return RunOnShares(std::move(categories),
                     Estimate(reference.cdf, std::move(reference_shares), unseen(reference.cdf)),
                     Estimate(current.cdf, std::move(current_shares), unseen(current.cdf)),
                     /*exact=*/false, result);
}

// Evidently's sturges bins over both windows, each bin's share read from the CDFs.
absl::Status RunOnBins(const NumericWindow& reference, const NumericWindow& current,
                       DriftResult& result) {
  const std::vector<double> edges =
      SturgesBinEdges(std::min(reference.cdf.min(), current.cdf.min()),
                      std::max(reference.cdf.max(), current.cdf.max()),
                      reference.cdf.count() + current.cdf.count());
  std::vector<std::string> categories;
  for (size_t k = 0; k + 1 < edges.size(); ++k) {
    categories.push_back(absl::StrFormat("[%.17g, %.17g%c", edges[k], edges[k + 1],
                                         k + 2 == edges.size() ? ']' : ')'));
  }
  return RunOnShares(
      std::move(categories), Estimate(reference.cdf, BinShares(reference.cdf, edges), 0),
      Estimate(current.cdf, BinShares(current.cdf, edges), 0), /*exact=*/false, result);
}

std::vector<double> KeptValues(const SummaryCdf& reference, const SummaryCdf& current) {
  std::vector<double> a = reference.Breakpoints(), b = current.Breakpoints(), both;
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  both.erase(std::unique(both.begin(), both.end()), both.end());
  return both;
}

absl::StatusOr<DriftResult> EvaluateNumeric(const NumericWindow& reference,
                                            const NumericWindow& current,
                                            const DriftOptions& options) {
  if (reference.sketch != nullptr && current.sketch != nullptr && reference.sketch->exact() &&
      current.sketch->exact()) {
    return EvaluateValues(reference, current, options);
  }
  const SummaryCdf &ref = reference.cdf, &cur = current.cdf;
  const std::vector<double> kept = KeptValues(ref, cur);
  // A profile's bins say nothing of its distinct values: its column is numeric.
  const int64_t distinct = reference.sketch == nullptr ? std::numeric_limits<int64_t>::max()
                                                       : static_cast<int64_t>(kept.size());
  absl::StatusOr<DriftResult> result =
      PrepareDriftResult(ref.count(), cur.count(), distinct, /*numeric=*/true, options);
  if (!result.ok()) return result.status();
  result->reference_missing = reference.missing + ref.infinite_count();
  result->current_missing = current.missing + cur.infinite_count();
  if (!result->enough_data) return result;
  switch (result->test) {
    case DriftTestKind::kKs: {
      absl::StatusOr<KsResult> ks = KsPValue(ref.count(), cur.count(), KsDistance(ref, cur));
      if (!ks.ok()) return ks.status();
      SetVerdict(ks->statistic, ks->p_value, ref.rank_error() + cur.rank_error(), *result);
      if (ks->exact) {
        // Rounding to the lattice of the exact p-value moves D by up to half a step.
        const double n1 = static_cast<double>(ref.count()), n2 = static_cast<double>(cur.count());
        result->error_bound += 0.5 / (n1 * n2 / std::gcd(ref.count(), cur.count()));
      }
      return result;
    }
    case DriftTestKind::kWasserstein: {
      double stddev = reference.stddev, bound_scale = 1;
      if (!std::isfinite(stddev)) {
        // ±inf in the reference: its kept deviation means nothing; no bound on the estimate.
        stddev = 0;
        bound_scale = kNoBound;
      }
      const double scale = std::max(stddev, 0.001);
      const double bound = WassersteinErrorBound(ref, cur) / scale * bound_scale;
      SetVerdict(WassersteinDistance(ref, cur) / scale, std::nullopt, bound, *result);
      return result;
    }
    case DriftTestKind::kPsi:
    case DriftTestKind::kJensenShannon: {
      const bool binned = reference.sketch == nullptr || static_cast<int64_t>(ref.points().size()) >
                                                             kMaxDistinctValuesAsCategories;
      absl::Status status =
          binned && std::min(ref.min(), cur.min()) < std::max(ref.max(), cur.max())
              ? RunOnBins(reference, current, *result)
              : RunOnValues(reference, current, kept, *result);
      if (!status.ok()) return status;
      return result;
    }
    default: {
      absl::Status status = RunOnValues(reference, current, kept, *result);
      if (!status.ok()) return status;
      return result;
    }
  }
}

CategoryCountMap Named(const CategoryCounts& counts) {
  CategoryCountMap named;
  for (const auto& [category, count] : counts.Sorted()) named[category] += count;
  if (counts.other_count() > 0) named[kOtherCategories] += counts.other_count();
  return named;
}

absl::StatusOr<DriftResult> EvaluateCategories(const ColumnSummary& reference,
                                               const ColumnSummary& current,
                                               const DriftOptions& options) {
  absl::StatusOr<DriftResult> result = EvaluateColumn(
      CategoricalColumn{Named(reference.categories()), reference.missing_count()},
      CategoricalColumn{Named(current.categories()), current.missing_count()}, options);
  if (!result.ok()) return result.status();
  if (result->enough_data &&
      (reference.categories().other_count() > 0 || current.categories().other_count() > 0)) {
    result->error_bound = kNoBound;
  }
  return result;
}

absl::Status CheckKinds(ColumnSummary::Kind reference, ColumnSummary::Kind current) {
  if (reference == current) return absl::OkStatus();
  const auto name = [](ColumnSummary::Kind kind) {
    return kind == ColumnSummary::Kind::kNumeric ? "numeric" : "categorical";
  };
  return absl::InvalidArgumentError(
      absl::StrCat("the reference is ", name(reference), ", the current window ", name(current)));
}

absl::StatusOr<NumericWindow> Window(const ColumnSummary& summary, double stated_error) {
  if (summary.sketch() == nullptr) {
    return absl::InvalidArgumentError(
        "a numeric summary without its sketch keeps no distribution to compare");
  }
  NumericWindow window{SummaryCdf::FromSketch(*summary.sketch(), stated_error)};
  window.sketch = summary.sketch();
  window.missing = summary.missing_count();
  window.stddev = summary.stddev();
  return window;
}

absl::StatusOr<DriftResult> EvaluateAgainstWindow(const ColumnSummary& reference,
                                                  double stated_reference_error,
                                                  const ColumnSummary& current,
                                                  const DriftOptions& options) {
  if (absl::Status status = CheckKinds(reference.kind(), current.kind()); !status.ok()) {
    return status;
  }
  if (reference.kind() == ColumnSummary::Kind::kCategorical) {
    return EvaluateCategories(reference, current, options);
  }
  absl::StatusOr<NumericWindow> ref = Window(reference, stated_reference_error);
  if (!ref.ok()) return ref.status();
  absl::StatusOr<NumericWindow> cur = Window(current, 0);
  if (!cur.ok()) return cur.status();
  return EvaluateNumeric(*ref, *cur, options);
}

}  // namespace

absl::StatusOr<DriftResult> EvaluateSummaries(const ColumnSummary& reference,
                                              const ColumnSummary& current,
                                              const DriftOptions& options) {
  return EvaluateAgainstWindow(reference, 0, current, options);
}

absl::StatusOr<DriftResult> EvaluateSummaries(const v1::DistributionProfile& reference,
                                              const ColumnSummary& current,
                                              const DriftOptions& options) {
  const bool with_bins = reference.has_numeric() && reference.numeric().quantile_sketch().empty();
  if (!with_bins) {
    absl::StatusOr<ColumnSummary> summary = ColumnSummary::FromProto(reference);
    if (!summary.ok()) return summary.status();
    return EvaluateAgainstWindow(
        *summary, reference.has_numeric() ? reference.numeric().rank_error() : 0, current, options);
  }
  // A profile made before sketches: its bins.
  if (absl::Status status = CheckKinds(ColumnSummary::Kind::kNumeric, current.kind());
      !status.ok()) {
    return status;
  }
  const v1::NumericSummary& numeric = reference.numeric();
  absl::StatusOr<SummaryCdf> cdf = SummaryCdf::FromBins(numeric);
  if (!cdf.ok()) return cdf.status();
  if (cdf->empty() && numeric.count() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "column '", reference.name(), "' keeps neither a sketch nor bins of its values"));
  }
  NumericWindow ref{*std::move(cdf)};
  ref.missing = std::llround(reference.missing_rate() * static_cast<double>(reference.count()));
  ref.stddev = numeric.stddev();
  absl::StatusOr<NumericWindow> cur = Window(current, 0);
  if (!cur.ok()) return cur.status();
  return EvaluateNumeric(ref, *cur, options);
}

}  // namespace fabrique::monitoring
