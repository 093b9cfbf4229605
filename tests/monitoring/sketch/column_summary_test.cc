// Column summaries count values, missing ones and ones out of the reference's range, merge
// windows, and round-trip through the profile's DistributionProfile.

#include "libs/monitoring/sketch/column_summary.h"

#include <cmath>
#include <random>

#include "absl/status/status.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

TEST_CASE("Numeric columns: missing, out of range, moments, sketch", "[column]") {
  ColumnSummary::Options options;
  options.reference_min = 0;
  options.reference_max = 10;
  ColumnSummary column(options);
  for (int i = -2; i <= 12; ++i) column.AddNumber(i);  // -2, -1, 11, 12 out of range.
  column.AddNumber(NAN);
  column.AddMissing(2);
  column.AddCategory("x");  // Not a number: missing.
  CHECK(column.count() == 19);
  CHECK(column.missing_count() == 4);
  CHECK(column.number_count() == 15);
  CHECK(column.out_of_range_count() == 4);
  CHECK(column.mean() == Approx(5));
  CHECK(column.stddev() == Approx(std::sqrt(280.0 / 15)));
  REQUIRE(column.sketch() != nullptr);
  CHECK(column.sketch()->count() == 15);
  CHECK(column.sketch()->Quantile(0.5) == 5);
}

TEST_CASE("Windows merge; kinds must match", "[column]") {
  ColumnSummary a({}), b({});
  for (int i = 0; i < 100; ++i) a.AddNumber(i);
  for (int i = 100; i < 200; ++i) b.AddNumber(i);
  b.AddMissing();
  REQUIRE(a.Merge(b).ok());
  CHECK(a.count() == 201);
  CHECK(a.missing_count() == 1);
  CHECK(a.sketch()->count() == 200);
  CHECK(a.sketch()->Quantile(0.5) == 99);
  CHECK(a.mean() == Approx(99.5));

  ColumnSummary::Options categorical;
  categorical.kind = ColumnSummary::Kind::kCategorical;
  ColumnSummary c(categorical);
  CHECK(a.Merge(c).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Categorical columns against a reference's categories", "[column]") {
  v1::DistributionProfile reference;
  reference.mutable_categorical()->add_categories()->set_value("FR");
  reference.mutable_categorical()->add_categories()->set_value("DE");
  ColumnSummary column(ColumnSummary::AgainstReference(reference));
  CHECK(column.kind() == ColumnSummary::Kind::kCategorical);
  column.AddCategory("FR");
  column.AddCategory("IT");
  column.AddNumber(1);  // A class label: "1", out of range.
  column.AddMissing();
  CHECK(column.count() == 4);
  CHECK(column.out_of_range_count() == 2);
  CHECK(column.categories().Count("1") == 1);
  // A truncated reference list says nothing of what is out of range.
  reference.mutable_categorical()->set_other_count(3);
  CHECK(ColumnSummary::AgainstReference(reference).reference_categories.empty());

  const v1::DistributionProfile proto = column.ToProto("country");
  CHECK(proto.name() == "country");
  CHECK(proto.missing_rate() == Approx(0.25));
  CHECK(proto.categorical().out_of_range_count() == 2);
  absl::StatusOr<ColumnSummary> back = ColumnSummary::FromProto(proto);
  REQUIRE(back.ok());
  CHECK(back->kind() == ColumnSummary::Kind::kCategorical);
  CHECK(back->missing_count() == 1);
  CHECK(back->categories().Count("IT") == 1);
}

TEST_CASE("Numeric summaries round-trip with their sketch and bins", "[column]") {
  v1::DistributionProfile reference;
  reference.mutable_numeric()->set_count(1);
  reference.mutable_numeric()->set_min_value(-1);
  reference.mutable_numeric()->set_max_value(1);
  ColumnSummary column(ColumnSummary::AgainstReference(reference));
  std::mt19937_64 g(1);
  for (int i = 0; i < 50000; ++i) column.AddNumber(std::normal_distribution<>(0, 1)(g));
  column.AddMissing(10);
  const v1::DistributionProfile proto = column.ToProto("amount");
  const v1::NumericSummary& numeric = proto.numeric();
  CHECK(numeric.count() == 50000);
  CHECK(numeric.rank_error() == column.sketch()->rank_error());
  CHECK(numeric.rank_error() > 0);
  CHECK(numeric.out_of_range_count() == column.out_of_range_count());
  CHECK(column.out_of_range_count() == Approx(50000 * 0.3173).epsilon(0.05));
  CHECK(numeric.bin_edges_size() == 11);
  double sum = 0;
  for (double f : numeric.bin_fractions()) {
    CHECK(f == Approx(0.1).margin(0.02));
    sum += f;
  }
  CHECK(sum == Approx(1));

  absl::StatusOr<ColumnSummary> back = ColumnSummary::FromProto(proto);
  REQUIRE(back.ok());
  CHECK(back->count() == 50010);
  CHECK(back->missing_count() == 10);
  CHECK(back->mean() == Approx(column.mean()));
  CHECK(back->stddev() == Approx(column.stddev()));
  REQUIRE(back->sketch() != nullptr);
  CHECK(back->sketch()->Serialize() == column.sketch()->Serialize());

  v1::DistributionProfile corrupt = proto;
  corrupt.mutable_numeric()->set_quantile_sketch("garbage");
  CHECK(ColumnSummary::FromProto(corrupt).status().code() == absl::StatusCode::kInvalidArgument);
  v1::DistributionProfile mismatched = proto;
  mismatched.mutable_numeric()->set_count(3);
  CHECK(ColumnSummary::FromProto(mismatched).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ColumnSummary::FromProto(v1::DistributionProfile()).status().code() ==
        absl::StatusCode::kInvalidArgument);

  // A profile from before sketches: counts read, no sketch.
  v1::DistributionProfile old = proto;
  old.mutable_numeric()->clear_quantile_sketch();
  old.mutable_numeric()->clear_rank_error();
  back = ColumnSummary::FromProto(old);
  REQUIRE(back.ok());
  CHECK(back->sketch() == nullptr);
  CHECK(back->number_count() == 50000);
}

}  // namespace
}  // namespace fabrique::monitoring
