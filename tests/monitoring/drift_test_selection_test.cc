// AUTO picks Evidently's documented default in each regime, and each test's default threshold
// and direction are Evidently's.

#include "libs/monitoring/drift_test_selection.h"

#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

TEST_CASE("a column's kind follows its distinct values") {
  CHECK(InferColumnKind(/*numeric=*/true, 6) == ColumnKind::kNumeric);
  CHECK(InferColumnKind(true, 5) == ColumnKind::kCategorical);
  CHECK(InferColumnKind(true, 3) == ColumnKind::kCategorical);
  CHECK(InferColumnKind(true, 2) == ColumnKind::kBinary);
  CHECK(InferColumnKind(true, 1) == ColumnKind::kBinary);
  CHECK(InferColumnKind(/*numeric=*/false, 50) == ColumnKind::kCategorical);
  CHECK(InferColumnKind(false, 2) == ColumnKind::kBinary);
}

TEST_CASE("AUTO: statistical tests up to 1000 reference rows, distances above") {
  CHECK(SelectTest(ColumnKind::kNumeric, 1000) == DriftTestKind::kKs);
  CHECK(SelectTest(ColumnKind::kCategorical, 1000) == DriftTestKind::kChiSquare);
  CHECK(SelectTest(ColumnKind::kBinary, 1000) == DriftTestKind::kZTest);
  CHECK(SelectTest(ColumnKind::kNumeric, 1001) == DriftTestKind::kWasserstein);
  CHECK(SelectTest(ColumnKind::kCategorical, 1001) == DriftTestKind::kJensenShannon);
  CHECK(SelectTest(ColumnKind::kBinary, 1001) == DriftTestKind::kJensenShannon);
  CHECK(SelectTest(ColumnKind::kNumeric, 0) == DriftTestKind::kKs);
}

TEST_CASE("default thresholds: p-values below 0.05, distances and PSI at least 0.1") {
  for (DriftTestKind test :
       {DriftTestKind::kKs, DriftTestKind::kChiSquare, DriftTestKind::kZTest}) {
    INFO(DriftTestName(test));
    CHECK(DefaultThreshold(test).value == 0.05);
    CHECK(DefaultThreshold(test).drift_when == DriftWhen::kPValueBelow);
  }
  for (DriftTestKind test :
       {DriftTestKind::kWasserstein, DriftTestKind::kJensenShannon, DriftTestKind::kPsi}) {
    INFO(DriftTestName(test));
    CHECK(DefaultThreshold(test).value == 0.1);
    CHECK(DefaultThreshold(test).drift_when == DriftWhen::kStatisticAtLeast);
  }
  CHECK(IsDrift(0.049, DefaultThreshold(DriftTestKind::kKs)));
  CHECK_FALSE(IsDrift(0.05, DefaultThreshold(DriftTestKind::kKs)));
  CHECK(IsDrift(0.1, DefaultThreshold(DriftTestKind::kPsi)));
  CHECK_FALSE(IsDrift(0.099, DefaultThreshold(DriftTestKind::kPsi)));
  CHECK(DriftTestName(DriftTestKind::kJensenShannon) == "jensenshannon");
}

}  // namespace
}  // namespace fabrique::monitoring
