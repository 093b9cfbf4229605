// The fast paths of the exact statistics give the same bits as the plain ones: the radix sort
// std::sort's order, D without sorting D by a merge of the sorted samples, and the batch of KS
// tests Ks2Samp's results column by column.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/monitoring/drift_statistics.h"
#include "libs/monitoring/ks_statistic.h"
#include "libs/monitoring/sorted_finite.h"
#include "tests/monitoring/drift_samples.h"

namespace fabrique::monitoring {
namespace {

std::vector<double> StdSorted(const std::vector<double>& column) {
  std::vector<double> values;
  for (double value : column) {
    if (std::isfinite(value)) values.push_back(value);
  }
  std::sort(values.begin(), values.end());
  return values;
}

TEST_CASE("large columns sort as std::sort sorts them, missing values dropped and counted") {
  std::mt19937_64 engine(42);
  std::uniform_int_distribution<uint64_t> bits;
  std::vector<double> column;
  for (int i = 0; i < 50000; ++i) {
    uint64_t b = bits(engine);
    double value;
    std::memcpy(&value, &b, sizeof value);  // every exponent: huge, tiny, subnormal, NaN, inf
    column.push_back(value);
  }
  const std::vector<double> normal = Normal(30000, -2, 1, 3);
  column.insert(column.end(), normal.begin(), normal.end());
  for (double special :
       std::vector<double>{0.0, -0.0, 0.0, std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::max(), INFINITY, -INFINITY, NAN}) {
    column.push_back(special);
  }
  int64_t missing = -1;
  const std::vector<double> got = SortedFiniteValues(column, &missing);
  const std::vector<double> want = StdSorted(column);
  REQUIRE(got.size() == want.size());
  CHECK(missing == static_cast<int64_t>(column.size() - want.size()));
  CHECK(std::is_sorted(got.begin(), got.end()));
  bool equal = true;
  for (size_t i = 0; i < got.size(); ++i) equal = equal && got[i] == want[i];
  CHECK(equal);

  CHECK(SortedFiniteValues(std::vector<double>(5000, NAN)).empty());
  const std::vector<double> constant(5000, 1.5);
  CHECK(SortedFiniteValues(constant) == constant);
  CHECK(SortedFiniteValues(std::vector<double>{3, NAN, 1, 2}) == std::vector<double>{1, 2, 3});
}

void CheckSameD(const std::vector<double>& a, const std::vector<double>& b) {
  const UnsortedKs unsorted = KsStatisticUnsorted(a, b);
  const std::vector<double> sa = SortedFiniteValues(a), sb = SortedFiniteValues(b);
  CHECK(unsorted.reference_count == static_cast<int64_t>(sa.size()));
  CHECK(unsorted.current_count == static_cast<int64_t>(sb.size()));
  CHECK(unsorted.statistic == KsStatisticSorted(sa, sb));  // the same bits
}

std::vector<double> Rounded(std::vector<double> values, double step) {
  for (double& value : values) value = std::round(value / step) * step;
  return values;
}

TEST_CASE("D without sorting equals D by merging the sorted samples, bit for bit") {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const int n = 20000 * static_cast<int>(seed);
    CheckSameD(Normal(n, 0, seed), Normal(n / 2 + 7, 0, seed + 100));             // no drift
    CheckSameD(Normal(n, 0, seed), Normal(n, 0.02 * seed, seed + 200));           // a shift
    CheckSameD(Normal(n, 0, seed), Normal(n, 0, seed + 300, 1.0 + 0.05 * seed));  // a scale
    CheckSameD(Rounded(Normal(n, 0, seed), 0.1), Rounded(Normal(n, 0.01, seed + 400), 0.1));
    CheckSameD(Rounded(Normal(n, 0, seed), 1.0), Rounded(Normal(n, 0, seed + 500), 1.0));
  }
  std::vector<double> outlier = Normal(50000, 0, 7), other = Normal(40000, 0.1, 8);
  outlier.push_back(1e300);  // every other value in the first bucket
  other.push_back(-1e300);
  CheckSameD(outlier, other);
  outlier.push_back(-std::numeric_limits<double>::max());  // a range beyond the doubles'
  outlier.push_back(std::numeric_limits<double>::max());
  CheckSameD(outlier, other);
  std::vector<double> with_missing = Normal(60000, 0, 9);
  for (size_t i = 0; i < with_missing.size(); i += 13) with_missing[i] = i % 2 ? NAN : -INFINITY;
  CheckSameD(with_missing, Normal(30000, 0, 10));
  CheckSameD(std::vector<double>(40000, 2.5), std::vector<double>(30000, 2.5));  // constant
  CheckSameD(std::vector<double>(40000, 2.5), std::vector<double>(30000, 3.5));
  CheckSameD(Repeat({0, 1}, 40000), Repeat({0, 1, 1}, 30000));
  const UnsortedKs empty = KsStatisticUnsorted(std::vector<double>(40000, NAN), Normal(10, 0, 1));
  CHECK(empty.reference_count == 0);
  CHECK(Ks2Samp(std::vector<double>(40000, NAN), Normal(10, 0, 1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("KS over many columns on several threads equals Ks2Samp column by column") {
  std::vector<std::vector<double>> references, currents;
  for (int c = 0; c < 9; ++c) {
    references.push_back(Normal(20000 + 1000 * c, 0, c + 1, 1));
    currents.push_back(Normal(15000, c % 3 == 0 ? 0.1 : 0.0, c + 10, 1));
  }
  references.push_back({NAN});  // refused, at its own index
  currents.push_back({1.0});
  std::vector<ColumnPair> pairs;
  for (size_t c = 0; c < references.size(); ++c) pairs.push_back({references[c], currents[c]});
  for (int threads : {0, 1, 3, 64}) {
    const std::vector<absl::StatusOr<KsResult>> results = Ks2SampColumns(pairs, threads);
    REQUIRE(results.size() == pairs.size());
    for (size_t c = 0; c + 1 < pairs.size(); ++c) {
      absl::StatusOr<KsResult> want = Ks2Samp(references[c], currents[c]);
      REQUIRE(results[c].ok());
      CHECK(results[c]->statistic == want->statistic);
      CHECK(results[c]->p_value == want->p_value);
    }
    CHECK(results.back().status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(Ks2SampColumns({}, 4).empty());
}

}  // namespace
}  // namespace fabrique::monitoring
