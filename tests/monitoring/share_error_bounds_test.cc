// The bounds on PSI and Jensen–Shannon computed from estimated shares hold for every set of
// exact shares within the stated error of the estimates, and are 0 for exact estimates.

#include "libs/monitoring/share_error_bounds.h"

#include <cmath>
#include <random>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/monitoring/drift_statistics.h"

namespace fabrique::monitoring {
namespace {

std::vector<double> RandomShares(std::mt19937_64& engine, int bins, bool with_zeros) {
  std::exponential_distribution<double> draw(1.0);
  std::vector<double> shares(bins);
  double total = 0;
  for (double& share : shares) {
    share = with_zeros && draw(engine) > 2.0 ? 0.0 : draw(engine);
    total += share;
  }
  if (total == 0) shares[0] = total = 1;
  for (double& share : shares) share /= total;
  return shares;
}

// Exact shares within `error` of `estimate` (each one), still summing to 1: mass moved between
// random pairs of bins.
std::vector<double> Perturbed(std::mt19937_64& engine, std::vector<double> estimate, double error) {
  std::vector<double> moved(estimate.size(), 0.0);
  std::uniform_int_distribution<size_t> bin(0, estimate.size() - 1);
  std::uniform_real_distribution<double> amount(0.0, 1.0);
  for (int step = 0; step < 20; ++step) {
    const size_t from = bin(engine), to = bin(engine);
    const double room =
        std::min({estimate[from], error - std::fabs(moved[from]), error - std::fabs(moved[to])});
    if (from == to || room <= 0) continue;
    const double m = amount(engine) * room;
    estimate[from] -= m;
    estimate[to] += m;
    moved[from] -= m;
    moved[to] += m;
  }
  return estimate;
}

AlignedCounts Counts(const std::vector<double>& r, const std::vector<double>& c, double n) {
  AlignedCounts counts;
  for (size_t i = 0; i < r.size(); ++i) {
    counts.categories.push_back(std::to_string(i));
    counts.reference.push_back(r[i] * n);
    counts.current.push_back(c[i] * n);
  }
  return counts;
}

TEST_CASE("the bounds hold for exact shares anywhere within the error of the estimates") {
  std::mt19937_64 engine(7);
  constexpr double kCount = 1e6;
  for (int trial = 0; trial < 400; ++trial) {
    const int bins = 2 + trial % 20;
    const double error = trial % 3 == 0 ? 0.0086 : 0.001 * (trial % 7);
    EstimatedShares r{RandomShares(engine, bins, trial % 2 == 0), error, 0, 1000000};
    EstimatedShares c{RandomShares(engine, bins, trial % 4 == 0), error, 0, 1000000};
    const double psi = *Psi(Counts(r.shares, c.shares, kCount));
    const double js = *JensenShannon(Counts(r.shares, c.shares, kCount));
    const double psi_bound = PsiErrorBound(r, c, psi), js_bound = JensenShannonErrorBound(r, c, js);
    for (int draw = 0; draw < 5; ++draw) {
      const std::vector<double> exact_r = Perturbed(engine, r.shares, error);
      const std::vector<double> exact_c = Perturbed(engine, c.shares, error);
      INFO("trial " << trial << " draw " << draw);
      CHECK(std::fabs(*Psi(Counts(exact_r, exact_c, kCount)) - psi) <= psi_bound * (1 + 1e-12));
      CHECK(std::fabs(*JensenShannon(Counts(exact_r, exact_c, kCount)) - js) <=
            js_bound * (1 + 1e-12) + 1e-15);
    }
  }
}

TEST_CASE("exact estimates have no error, and unseen categories widen the bound") {
  EstimatedShares r{{0.5, 0.3, 0.2}, 0, 0, 1000};
  EstimatedShares c{{0.4, 0.4, 0.2}, 0, 0, 1000};
  const AlignedCounts counts = Counts(r.shares, c.shares, 1000);
  CHECK(PsiErrorBound(r, c, *Psi(counts)) == Approx(0).margin(1e-15));
  CHECK(JensenShannonErrorBound(r, c, *JensenShannon(counts)) == Approx(0).margin(1e-12));
  c.unseen = 0.01;
  CHECK(JensenShannonErrorBound(r, c, *JensenShannon(counts)) > 0);
  CHECK(PsiErrorBound(r, c, *Psi(counts)) > 0.01);
}

}  // namespace
}  // namespace fabrique::monitoring
