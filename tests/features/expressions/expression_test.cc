// Expression evaluation: every operator and function over columns with and without nulls,
// typing of results, coalesce, and warnings for division by zero and log1p's domain.

#include "libs/features/expressions/expression.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "expression_test_util.h"

namespace fabrique::features {
namespace {

using testing::Eval;
using testing::Evaluated;
using testing::ExprBatch;

std::vector<int64_t> Ints(const Evaluated& e) {
  REQUIRE(e.column.has_int64_values());
  return {e.column.int64_values().values().begin(), e.column.int64_values().values().end()};
}
std::vector<double> Doubles(const Evaluated& e) {
  REQUIRE(e.column.has_double_values());
  return {e.column.double_values().values().begin(), e.column.double_values().values().end()};
}
std::vector<bool> Bools(const Evaluated& e) {
  REQUIRE(e.column.has_bool_values());
  return {e.column.bool_values().values().begin(), e.column.bool_values().values().end()};
}
std::vector<std::string> Strings(const Evaluated& e) {
  REQUIRE(e.column.has_string_values());
  return {e.column.string_values().values().begin(), e.column.string_values().values().end()};
}
std::vector<bool> Nulls(const Evaluated& e, int rows) {
  std::vector<bool> nulls;
  for (int i = 0; i < rows; ++i) nulls.push_back(e.null(i));
  return nulls;
}

ExprBatch Numbers() {
  ExprBatch batch(4);
  batch.Int("a", {7, -7, 0, 5}).Int("b", {2, 2, 3, -3});
  batch.Double("x", {1.5, -2.5, 0, 10}).Double("y", {0.5, 2, 4, -1});
  batch.Float("f", {0.25f, 1.5f, -3.0f, 2.0f});
  return batch;
}

TEST_CASE("INT64 arithmetic stays INT64; / gives DOUBLE", "[expressions]") {
  const ExprBatch batch = Numbers();
  Evaluated sum = Eval("a + b", batch);
  CHECK(sum.type == v1::FEATURE_TYPE_INT64);
  CHECK(Ints(sum) == std::vector<int64_t>{9, -5, 3, 2});
  CHECK(sum.column.is_null_size() == 0);
  CHECK(Ints(Eval("a - b", batch)) == std::vector<int64_t>{5, -9, -3, 8});
  CHECK(Ints(Eval("a * b", batch)) == std::vector<int64_t>{14, -14, 0, -15});
  // The sign of the dividend, as in C and SQL.
  CHECK(Ints(Eval("a % b", batch)) == std::vector<int64_t>{1, -1, 0, 2});
  CHECK(Ints(Eval("-a", batch)) == std::vector<int64_t>{-7, 7, 0, -5});
  Evaluated quotient = Eval("a / b", batch);
  CHECK(quotient.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(Doubles(quotient) == std::vector<double>{3.5, -3.5, 0, -5.0 / 3});
}

TEST_CASE("DOUBLE and mixed arithmetic; FLOAT reads as DOUBLE", "[expressions]") {
  const ExprBatch batch = Numbers();
  Evaluated mixed = Eval("a + x", batch);
  CHECK(mixed.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(Doubles(mixed) == std::vector<double>{8.5, -9.5, 0, 15});
  CHECK(Doubles(Eval("x * y - 1", batch)) == std::vector<double>{-0.25, -6, -1, -11});
  CHECK(Doubles(Eval("x / y", batch)) == std::vector<double>{3, -1.25, 0, -10});
  CHECK(Doubles(Eval("x % y", batch)) == std::vector<double>{0, -0.5, 0, 0});
  CHECK(Doubles(Eval("-x", batch)) == std::vector<double>{-1.5, 2.5, 0, -10});
  CHECK(Doubles(Eval("f * 4", batch)) == std::vector<double>{1, 6, -12, 8});
}

TEST_CASE("precedence, parentheses and literals", "[expressions]") {
  const ExprBatch batch = Numbers();
  CHECK(Ints(Eval("1 + 2 * 3 - 4 % 3", batch)) == std::vector<int64_t>{6, 6, 6, 6});
  CHECK(Ints(Eval("(1 + 2) * 3", batch)) == std::vector<int64_t>{9, 9, 9, 9});
  CHECK(Ints(Eval("- -a", batch)) == std::vector<int64_t>{7, -7, 0, 5});
  CHECK(Ints(Eval("2 * -a", batch)) == std::vector<int64_t>{-14, 14, 0, -10});
  CHECK(Doubles(Eval("1.5e1 + .5", batch)) == std::vector<double>{15.5, 15.5, 15.5, 15.5});
  CHECK(Bools(Eval("a > 0 and b > 0 or x == 0", batch)) ==
        std::vector<bool>{true, false, true, false});
  CHECK(Bools(Eval("not a > 0", batch)) == std::vector<bool>{false, true, true, false});
  CHECK(Strings(Eval("\"say \\\"hi\\\"\"", batch))[0] == "say \"hi\"");
  CHECK(Bools(Eval("true and not false", batch)) == std::vector<bool>{true, true, true, true});
}

TEST_CASE("INT64 overflow wraps around instead of being undefined", "[expressions]") {
  ExprBatch batch(2);
  batch.Int("a", {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
  CHECK(Ints(Eval("a + 1", batch)) ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::min() + 1});
  CHECK(Ints(Eval("a % -1", batch)) == std::vector<int64_t>{0, 0});
  CHECK(Ints(Eval("-a", batch))[1] == std::numeric_limits<int64_t>::min());
  CHECK(Ints(Eval("abs(a)", batch))[1] == std::numeric_limits<int64_t>::min());
}

TEST_CASE("comparisons of numbers, strings and booleans", "[expressions]") {
  ExprBatch batch = Numbers();
  batch.String("s", {"apple", "pear", "fig", "apple"}).String("t", {"apple", "apple", "z", "b"});
  batch.Bool("p", {true, false, true, false}).Bool("q", {true, true, false, false});
  CHECK(Bools(Eval("a < b", batch)) == std::vector<bool>{false, true, true, false});
  CHECK(Bools(Eval("a <= 0", batch)) == std::vector<bool>{false, true, true, false});
  CHECK(Bools(Eval("a > x", batch)) == std::vector<bool>{true, false, false, false});
  CHECK(Bools(Eval("x >= 0", batch)) == std::vector<bool>{true, false, true, true});
  CHECK(Bools(Eval("a == 0", batch)) == std::vector<bool>{false, false, true, false});
  CHECK(Bools(Eval("x != 1.5", batch)) == std::vector<bool>{false, true, true, true});
  CHECK(Bools(Eval("s == t", batch)) == std::vector<bool>{true, false, false, false});
  CHECK(Bools(Eval("s < t", batch)) == std::vector<bool>{false, false, true, true});
  CHECK(Bools(Eval("s != \"apple\"", batch)) == std::vector<bool>{false, true, true, false});
  CHECK(Bools(Eval("p == q", batch)) == std::vector<bool>{true, false, false, true});
  CHECK(Bools(Eval("p and q", batch)) == std::vector<bool>{true, false, false, false});
  CHECK(Bools(Eval("p or q", batch)) == std::vector<bool>{true, true, true, false});
  CHECK(Bools(Eval("not p", batch)) == std::vector<bool>{false, true, false, true});
}

TEST_CASE("log1p, abs, min, max and clip", "[expressions]") {
  const ExprBatch batch = Numbers();
  Evaluated log = Eval("log1p(a)", batch);
  CHECK(log.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(Doubles(log)[0] == std::log1p(7.0));
  CHECK(Doubles(Eval("log1p(x)", batch))[0] == std::log1p(1.5));
  CHECK(Ints(Eval("abs(a)", batch)) == std::vector<int64_t>{7, 7, 0, 5});
  CHECK(Doubles(Eval("abs(x)", batch)) == std::vector<double>{1.5, 2.5, 0, 10});
  Evaluated min = Eval("min(a, b)", batch);
  CHECK(min.type == v1::FEATURE_TYPE_INT64);
  CHECK(Ints(min) == std::vector<int64_t>{2, -7, 0, -3});
  CHECK(Ints(Eval("max(a, b, 4)", batch)) == std::vector<int64_t>{7, 4, 4, 5});
  Evaluated mixed = Eval("min(a, x)", batch);
  CHECK(mixed.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(Doubles(mixed) == std::vector<double>{1.5, -7, 0, 5});
  CHECK(Ints(Eval("clip(a, 0, 5)", batch)) == std::vector<int64_t>{5, 0, 0, 5});
  CHECK(Doubles(Eval("clip(x, -1, 2.5)", batch)) == std::vector<double>{1.5, -1, 0, 2.5});
  // Bounds from columns: a lower bound above the upper one gives the upper, as numpy.clip.
  CHECK(Ints(Eval("clip(a, b, 3)", batch)) == std::vector<int64_t>{3, 2, 3, 3});
}

TEST_CASE("bucketize counts the boundaries <= x, as numpy.digitize", "[expressions]") {
  ExprBatch batch(7);
  batch.Double("x", {-5, 0, 17.9, 18, 29, 65, std::nan("")});
  batch.Int("a", {-5, 0, 17, 18, 29, 65, 100});
  Evaluated buckets = Eval("bucketize(x, [0, 18, 30, 65])", batch);
  CHECK(buckets.type == v1::FEATURE_TYPE_INT64);
  CHECK(Ints(buckets) == std::vector<int64_t>{0, 1, 1, 2, 2, 4, 4});
  CHECK(Ints(Eval("bucketize(a, [-1.5, 18])", batch)) == std::vector<int64_t>{0, 1, 1, 2, 2, 2, 2});
  CHECK(Ints(Eval("bucketize(a, [5])", batch)) == std::vector<int64_t>{0, 0, 1, 1, 1, 1, 1});
}

TEST_CASE("lower() changes ASCII letters; length() counts code points", "[expressions]") {
  ExprBatch batch(4);
  batch.String("s", {"Paris", "lyon", "ÉTÉ Été", ""});
  Evaluated lower = Eval("lower(s)", batch);
  CHECK(lower.type == v1::FEATURE_TYPE_STRING);
  CHECK(Strings(lower) ==
        std::vector<std::string>{"paris", "lyon", "Ét\xc3\x89 \xc3\x89t\xc3\xa9", ""});
  Evaluated length = Eval("length(s)", batch);
  CHECK(length.type == v1::FEATURE_TYPE_INT64);
  CHECK(Ints(length) == std::vector<int64_t>{5, 4, 7, 0});
  CHECK(Ints(Eval("length(lower(s))", batch)) == std::vector<int64_t>{5, 4, 7, 0});
  CHECK(Bools(Eval("lower(s) == \"paris\"", batch)) ==
        std::vector<bool>{true, false, false, false});
}

TEST_CASE("a null operand gives null; an absent column is null", "[expressions]") {
  ExprBatch batch(3);
  batch.Int("a", {1, 0, 3}, {false, true, false}).Int("b", {5, 6, 0}, {false, false, true});
  batch.String("s", {"", "X", "y"}, {true, false, false});
  Evaluated sum = Eval("a + b", batch);
  CHECK(Nulls(sum, 3) == std::vector<bool>{false, true, true});
  CHECK(Ints(sum)[0] == 6);
  CHECK(Nulls(Eval("a / b", batch), 3) == std::vector<bool>{false, true, true});
  CHECK(Nulls(Eval("a < 2", batch), 3) == std::vector<bool>{false, true, false});
  CHECK(Nulls(Eval("abs(a)", batch), 3) == std::vector<bool>{false, true, false});
  CHECK(Nulls(Eval("max(a, b, 1)", batch), 3) == std::vector<bool>{false, true, true});
  CHECK(Nulls(Eval("bucketize(a, [1])", batch), 3) == std::vector<bool>{false, true, false});
  CHECK(Nulls(Eval("lower(s)", batch), 3) == std::vector<bool>{true, false, false});
  CHECK(Nulls(Eval("length(s)", batch), 3) == std::vector<bool>{true, false, false});
  // x is not in the batch: null in every row.
  Evaluated absent = Eval("x * 2", batch);
  CHECK(absent.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(Nulls(absent, 3) == std::vector<bool>{true, true, true});
  CHECK(Doubles(absent).size() == 3);
}

TEST_CASE("coalesce takes the first value that is not null", "[expressions]") {
  ExprBatch batch(4);
  batch.Int("a", {1, 0, 0, 0}, {false, true, true, true});
  batch.Int("b", {10, 20, 0, 0}, {false, false, true, true});
  batch.Double("x", {0, 0, 0.5, 0}, {true, true, false, true});
  batch.String("s", {"", "b", "", ""}, {true, false, true, true});
  Evaluated ints = Eval("coalesce(a, b)", batch);
  CHECK(ints.type == v1::FEATURE_TYPE_INT64);
  CHECK(Nulls(ints, 4) == std::vector<bool>{false, false, true, true});
  CHECK(Ints(ints)[0] == 1);
  CHECK(Ints(ints)[1] == 20);
  Evaluated mixed = Eval("coalesce(a, b, x, -1)", batch);
  CHECK(mixed.type == v1::FEATURE_TYPE_DOUBLE);
  CHECK(mixed.column.is_null_size() == 0);
  CHECK(Doubles(mixed) == std::vector<double>{1, 20, 0.5, -1});
  CHECK(Ints(Eval("coalesce(null, a, 7)", batch)) == std::vector<int64_t>{1, 7, 7, 7});
  CHECK(Strings(Eval("coalesce(s, \"none\")", batch)) ==
        std::vector<std::string>{"none", "b", "none", "none"});
  CHECK(Ints(Eval("coalesce(a, 0) * 2", batch)) == std::vector<int64_t>{2, 0, 0, 0});
}

TEST_CASE("division by zero gives null and is counted; null rows are not", "[expressions]") {
  ExprBatch batch(4);
  batch.Int("a", {6, 6, 6, 6}, {false, false, false, true}).Int("b", {2, 0, 0, 0});
  batch.Double("x", {1, 0, -0.0, 3});
  Evaluated quotient = Eval("a / b", batch);
  CHECK(Nulls(quotient, 4) == std::vector<bool>{false, true, true, true});
  CHECK(Doubles(quotient)[0] == 3);
  CHECK(quotient.warnings.division_by_zero == 2);
  CHECK(quotient.warnings.domain == 0);
  CHECK(Eval("a % b", batch).warnings.division_by_zero == 2);
  CHECK(Eval("b / x", batch).warnings.division_by_zero == 2);
  CHECK(Eval("b % x", batch).warnings.division_by_zero == 2);
  // A literal divisor of zero is refused when compiled rather than nulling every row.
  absl::Status status = testing::CompileError("a / 0");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "expression \"a / 0\": position 3: division by zero");
}

TEST_CASE("log1p at or below -1 gives null and is counted as a domain warning", "[expressions]") {
  ExprBatch batch(4);
  batch.Double("x", {-0.5, -1, -3, 0}, {false, false, false, true});
  Evaluated log = Eval("log1p(x)", batch);
  CHECK(Nulls(log, 4) == std::vector<bool>{false, true, true, true});
  CHECK(Doubles(log)[0] == std::log1p(-0.5));
  CHECK(log.warnings.domain == 2);
  CHECK(log.warnings.division_by_zero == 0);
  CHECK(testing::CompileError("log1p(-2)").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("literal subexpressions are folded; a constant expression fills every row",
          "[expressions]") {
  ExprBatch batch(3);
  batch.Int("a", {1, 2, 3});
  CHECK(Ints(Eval("a * (2 * 60)", batch)) == std::vector<int64_t>{120, 240, 360});
  CHECK(Ints(Eval("bucketize(5, [1, 10])", batch)) == std::vector<int64_t>{1, 1, 1});
  CHECK(Strings(Eval("lower(\"AB\")", batch)) == std::vector<std::string>{"ab", "ab", "ab"});
}

TEST_CASE("inputs() lists the features read, each once, sorted", "[expressions]") {
  auto compiled = Expression::Compile("y + a * a + coalesce(b, a) + length(s)", testing::Inputs());
  REQUIRE(compiled.ok());
  CHECK((*compiled)->inputs() == std::vector<std::string>{"a", "b", "s", "y"});
  CHECK((*compiled)->text() == "y + a * a + coalesce(b, a) + length(s)");
  CHECK((*compiled)->result_type() == v1::FEATURE_TYPE_DOUBLE);
}

TEST_CASE("a batch column of another type or length is INVALID_ARGUMENT", "[expressions]") {
  auto compiled = Expression::Compile("a + 1", testing::Inputs());
  REQUIRE(compiled.ok());
  v1::ValueColumn out;
  ExprBatch wrong_type(2);
  wrong_type.Double("a", {1, 2});
  absl::Status status = (*compiled)->Evaluate(wrong_type.batch(), &out, nullptr);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "feature \"a\": expected a list of INT64");
  ExprBatch wrong_length(3);
  wrong_length.Int("a", {1, 2});
  status = (*compiled)->Evaluate(wrong_length.batch(), &out, nullptr);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "feature \"a\": 2 values for 3 rows");
}

TEST_CASE("an empty batch gives an empty column", "[expressions]") {
  ExprBatch batch(0);
  batch.Int("a", {});
  Evaluated empty = Eval("a / 2", batch);
  CHECK(Doubles(empty).empty());
}

}  // namespace
}  // namespace fabrique::features
