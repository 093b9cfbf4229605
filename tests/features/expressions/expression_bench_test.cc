// Throughput of Expression::Evaluate on batches the size ingest sees. Hidden from the default run
// (tag [.]); run it on a Release build with
//   features_expressions_test "[bench]"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "expression_test_util.h"

namespace fabrique::features {
namespace {

using testing::ExprBatch;

TEST_CASE("Evaluate throughput over 100k-row batches", "[.][bench]") {
  constexpr int kRows = 100'000;
  std::mt19937 random(1);
  std::vector<double> amounts(kRows);
  std::vector<int64_t> items(kRows);
  std::vector<std::string> cities(kRows);
  std::vector<bool> nulls(kRows);
  for (int i = 0; i < kRows; ++i) {
    amounts[i] = static_cast<double>(random() % 100000) / 100;
    items[i] = static_cast<int64_t>(random() % 5);  // A fifth are zero: divisions by zero.
    cities[i] = i % 3 == 0 ? "Paris" : "lyon";
    nulls[i] = i % 10 == 0;
  }
  ExprBatch batch(kRows);
  batch.Double("x", amounts, nulls).Int("a", items).String("s", cities);
  for (const std::string text :
       {"x / a", "log1p(clip(x, 0, 1e6)) * 2 + abs(a)", "bucketize(x, [10, 100, 1000])",
        "coalesce(x, 0) > 50 and a != 0", "length(lower(s))"}) {
    auto compiled = Expression::Compile(text, testing::Inputs());
    REQUIRE(compiled.ok());
    v1::ValueColumn out;
    constexpr int kRepeats = 20;
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < kRepeats; ++r) {
      ExpressionWarnings warnings;
      REQUIRE((*compiled)->Evaluate(batch.batch(), &out, &warnings).ok());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << text << ": " << static_cast<int64_t>(kRows * kRepeats / seconds / 1e6)
              << "M rows/s\n";
  }
}

}  // namespace
}  // namespace fabrique::features
