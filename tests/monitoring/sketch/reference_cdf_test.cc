// A reference's CDF comes from its sketch, or, in profiles from before sketches, from its ten
// bins, with an error that says which.

#include "libs/monitoring/sketch/reference_cdf.h"

#include <cmath>

#include "absl/status/status.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

TEST_CASE("From the sketch when the profile has one", "[reference]") {
  QuantileSketch sketch;
  for (int i = 1; i <= 1000; ++i) sketch.Update(i);
  v1::NumericSummary summary;
  summary.set_quantile_sketch(sketch.Serialize());
  absl::StatusOr<ReferenceCdf> cdf = ReferenceCdf::FromSummary(summary);
  REQUIRE(cdf.ok());
  CHECK(cdf->from_sketch());
  CHECK(cdf->rank_error() == 0);  // 1,000 values: exact.
  CHECK(cdf->Cdf(250) == Approx(0.25));
  CHECK(cdf->Quantile(0.75) == 750);

  summary.set_quantile_sketch("FQKS\x01");
  CHECK(ReferenceCdf::FromSummary(summary).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Old profiles fall back to their bins", "[reference]") {
  v1::NumericSummary summary;  // Four bins of 0..100 by 25.
  for (double e : {0.0, 25.0, 50.0, 75.0, 100.0}) summary.add_bin_edges(e);
  for (int i = 0; i < 4; ++i) summary.add_bin_fractions(0.25);
  absl::StatusOr<ReferenceCdf> cdf = ReferenceCdf::FromSummary(summary);
  REQUIRE(cdf.ok());
  CHECK_FALSE(cdf->from_sketch());
  CHECK(cdf->rank_error() == Approx(0.25));
  CHECK(cdf->Cdf(-1) == 0);
  CHECK(cdf->Cdf(0) == 0);
  CHECK(cdf->Cdf(12.5) == Approx(0.125));
  CHECK(cdf->Cdf(50) == Approx(0.5));
  CHECK(cdf->Cdf(100) == 1);
  CHECK(cdf->Quantile(0) == 0);
  CHECK(cdf->Quantile(0.375) == Approx(37.5));
  CHECK(cdf->Quantile(1) == 100);

  v1::NumericSummary empty;
  cdf = ReferenceCdf::FromSummary(empty);
  REQUIRE(cdf.ok());
  CHECK(cdf->Cdf(3) == 0);
  CHECK(std::isnan(cdf->Quantile(0.5)));

  v1::NumericSummary uneven = summary;
  uneven.add_bin_fractions(0.1);
  CHECK(ReferenceCdf::FromSummary(uneven).status().code() == absl::StatusCode::kInvalidArgument);
  v1::NumericSummary decreasing = summary;
  decreasing.set_bin_edges(2, 10);
  CHECK(ReferenceCdf::FromSummary(decreasing).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::monitoring
