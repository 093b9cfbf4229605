// Random text, from raw bytes to plausible token soup, must compile or fail with
// INVALID_ARGUMENT, never crash; whatever compiles must evaluate over a batch with nulls, zeros
// and extremes.

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "expression_test_util.h"

namespace fabrique::features {
namespace {

using testing::ExprBatch;

ExprBatch Extremes() {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const double inf = std::numeric_limits<double>::infinity();
  ExprBatch batch(6);
  batch.Int("a", {0, -1, kMin, kMax, 7, 0}, {false, false, false, false, false, true});
  batch.Int("b", {0, -1, -1, 0, 3, 2});
  batch.Double("x", {0, -1, -inf, inf, std::nan(""), -0.0});
  batch.Float("f", {0, 1, -1, 2, 3, 4}, {true, false, false, false, false, false});
  batch.String("s", {"", "\xff\xfe", "ABC", "é", "x", ""},
               {false, false, false, false, false, true});
  batch.Bool("p", {true, false, true, false, true, false});
  return batch;  // y, t and q are absent: null in every row.
}

void CompileAndRun(const std::string& text, const ExprBatch& batch, int* compiled_count) {
  absl::StatusOr<std::unique_ptr<Expression>> compiled =
      Expression::Compile(text, testing::Inputs());
  if (!compiled.ok()) {
    INFO(text << " -> " << compiled.status().ToString());
    REQUIRE(compiled.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  ++*compiled_count;
  v1::ValueColumn out;
  ExpressionWarnings warnings;
  absl::Status status = (*compiled)->Evaluate(batch.batch(), &out, &warnings);
  INFO(text << " -> " << status.ToString());
  REQUIRE(status.ok());
  REQUIRE((out.is_null_size() == 0 || out.is_null_size() == 6));
}

TEST_CASE("random bytes never crash the compiler", "[expressions][fuzz]") {
  std::mt19937 random(17);
  const ExprBatch batch = Extremes();
  int compiled = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text(random() % 40, ' ');
    for (char& c : text) c = static_cast<char>(random() % 256);
    CompileAndRun(text, batch, &compiled);
  }
}

TEST_CASE("random token soup compiles or fails cleanly, and evaluates", "[expressions][fuzz]") {
  static const std::vector<std::string> kTokens = {
      "a",      "b",       "x",         "y",       "f",     "s",
      "t",      "p",       "q",         "v",       "zz",    "0",
      "1",      "-1",      "2.5",       "1e308",   "1e309", "9223372036854775807",
      "\"A\"",  "\"\"",    "true",      "false",   "null",  "+",
      "-",      "*",       "/",         "%",       "<",     "<=",
      ">",      ">=",      "==",        "!=",      "and",   "or",
      "not",    "(",       ")",         ",",       "[",     "]",
      "log1p(", "abs(",    "min(",      "max(",    "clip(", "bucketize(",
      "lower(", "length(", "coalesce(", "[0, 10]", "\"",    "=",
      "!"};
  std::mt19937 random(42);
  const ExprBatch batch = Extremes();
  int compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const int length = 1 + static_cast<int>(random() % 12);
    for (int j = 0; j < length; ++j) {
      text += kTokens[random() % kTokens.size()];
      if (random() % 2) text += ' ';
    }
    CompileAndRun(text, batch, &compiled);
  }
  // The soup is not all rejects: evaluation was exercised too.
  CHECK(compiled > 100);
}

TEST_CASE("well-formed random expressions evaluate over extremes", "[expressions][fuzz]") {
  static const std::vector<std::string> kLeaves = {"a", "b", "x", "f", "y", "0", "-1", "3", "0.5"};
  static const std::vector<std::string> kBinary = {"+", "-", "*", "/", "%"};
  static const std::vector<std::string> kUnary = {"log1p", "abs", "-"};
  std::mt19937 random(7);
  const ExprBatch batch = Extremes();
  int compiled = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = kLeaves[random() % kLeaves.size()];
    const int steps = 1 + static_cast<int>(random() % 8);
    for (int j = 0; j < steps; ++j) {
      switch (random() % 5) {
        case 0:
          text = kUnary[random() % kUnary.size()] + "(" + text + ")";
          break;
        case 1:
          text = "clip(" + text + ", -2, 2)";
          break;
        case 2:
          text = "coalesce(" + text + ", " + kLeaves[random() % kLeaves.size()] + ")";
          break;
        case 3:
          text = "bucketize(" + text + ", [-1, 0, 1])";
          break;
        default:
          text = "(" + text + ") " + kBinary[random() % kBinary.size()] + " " +
                 kLeaves[random() % kLeaves.size()];
          break;
      }
    }
    CompileAndRun(text, batch, &compiled);
  }
  CHECK(compiled > 1000);
}

}  // namespace
}  // namespace fabrique::features
