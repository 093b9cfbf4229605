// Category counts are exact, merge exactly, fold what passes the cap into "other" (counted),
// and round-trip through the profile's CategoricalSummary, old summaries included.

#include "libs/monitoring/sketch/category_counts.h"

#include "absl/status/status.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

CategoryCounts::Options Cap(int max_categories) {
  CategoryCounts::Options options;
  options.max_categories = max_categories;
  return options;
}

TEST_CASE("Counts are exact and merge exactly", "[categories]") {
  CategoryCounts a;
  for (int i = 0; i < 1000; ++i) a.Add(i % 3 == 0 ? "FR" : "DE");
  CategoryCounts b;
  b.Add("FR", 5);
  b.Add("IT");
  b.Add("IT", 0);  // Nothing.
  a.Merge(b);
  CHECK(a.total() == 1006);
  CHECK(a.Count("FR") == 334 + 5);
  CHECK(a.Count("DE") == 666);
  CHECK(a.Count("IT") == 1);
  CHECK(a.Count("ES") == 0);
  CHECK(a.other_count() == 0);
  const auto sorted = a.Sorted();
  REQUIRE(sorted.size() == 3);
  CHECK(sorted[0].first == "DE");
  CHECK(sorted[2].first == "IT");
}

TEST_CASE("Past the cap, new categories are counted in other", "[categories]") {
  CategoryCounts counts(Cap(2));
  counts.Add("a", 3);
  counts.Add("b");
  counts.Add("c", 2);  // Third distinct value: other.
  counts.Add("a");     // Tracked ones still count by name.
  CHECK(counts.tracked() == 2);
  CHECK(counts.Count("a") == 4);
  CHECK(counts.Count("c") == 0);
  CHECK(counts.other_count() == 2);
  CHECK(counts.total() == 7);

  CategoryCounts more(Cap(10));
  more.Add("d", 9);
  more.Add("b", 1);
  counts.Merge(more);  // "d" has no slot left; "b" has one.
  CHECK(counts.Count("b") == 2);
  CHECK(counts.other_count() == 11);
  CHECK(counts.total() == 17);
  CategoryCounts capped_other(Cap(1));
  capped_other.Add("x");
  capped_other.Add("y", 4);  // Other.
  counts.Merge(capped_other);
  CHECK(counts.other_count() == 16);
  CHECK(counts.total() == 22);
  counts.Merge(counts);  // Itself: every count doubles.
  CHECK(counts.other_count() == 32);
  CHECK(counts.total() == 44);
  CHECK(counts.Count("a") == 8);
}

TEST_CASE("Summaries: all categories or the top ones, counts exact; old ones read",
          "[categories]") {
  CategoryCounts counts;
  counts.Add("FR", 6);
  counts.Add("DE", 3);
  counts.Add("IT", 1);
  const v1::CategoricalSummary all = counts.ToProto();
  REQUIRE(all.categories_size() == 3);
  CHECK(all.categories(0).value() == "FR");
  CHECK(all.categories(0).count() == 6);
  CHECK(all.categories(0).fraction() == Approx(0.6));
  CHECK(all.other_count() == 0);
  CHECK(all.distinct_count() == 3);
  const v1::CategoricalSummary top1 = counts.ToProto(1);
  CHECK(top1.categories_size() == 1);
  CHECK(top1.other_count() == 4);
  CHECK(top1.other_fraction() == Approx(0.4));

  absl::StatusOr<CategoryCounts> back = CategoryCounts::FromProto(top1, {});
  REQUIRE(back.ok());
  CHECK(back->Count("FR") == 6);
  CHECK(back->other_count() == 4);
  CHECK(back->total() == 10);

  // Before exact counts: only the listed counts and the other share.
  v1::CategoricalSummary old = top1;
  old.clear_other_count();
  back = CategoryCounts::FromProto(old, {});
  REQUIRE(back.ok());
  CHECK(back->other_count() == 4);

  v1::CategoricalSummary twice = all;
  *twice.add_categories() = all.categories(0);
  CHECK(CategoryCounts::FromProto(twice, {}).status().code() == absl::StatusCode::kInvalidArgument);
  v1::CategoricalSummary negative = all;
  negative.mutable_categories(1)->set_count(-1);
  CHECK(CategoryCounts::FromProto(negative, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::monitoring
