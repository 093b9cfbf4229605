// Compile errors: each names the expression and the 1-based position of the fault, with the
// code INVALID_ARGUMENT.

#include <string>

#include "expression_test_util.h"

namespace fabrique::features {
namespace {

using testing::CompileError;

// Requires `text` to fail to compile with exactly `message`.
void RequireError(const std::string& text, const std::string& message) {
  absl::Status status = CompileError(text);
  INFO(text << " -> " << status.ToString());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()) == message);
}

TEST_CASE("unknown features and functions are named with their position", "[expressions]") {
  RequireError("amount / itms",
               "expression \"amount / itms\": position 1: unknown feature \"amount\"");
  RequireError("a / itms", "expression \"a / itms\": position 5: unknown feature \"itms\"");
  RequireError("a + sqrt(b)", "expression \"a + sqrt(b)\": position 5: unknown function \"sqrt\"");
}

TEST_CASE("type errors name the operator, the types and the position", "[expressions]") {
  RequireError("lower(a)",
               "expression \"lower(a)\": position 7: lower() takes a STRING, got INT64");
  RequireError("a + s", "expression \"a + s\": position 5: + takes a number, got STRING");
  RequireError("-p", "expression \"-p\": position 2: - takes a number, got BOOL");
  RequireError("a < s",
               "expression \"a < s\": position 3: < compares values of one kind, got INT64 and "
               "STRING");
  RequireError("p < q", "expression \"p < q\": position 3: < does not order BOOL values");
  RequireError("a and p", "expression \"a and p\": position 1: and takes a BOOL, got INT64");
  RequireError("not s", "expression \"not s\": position 5: not takes a BOOL, got STRING");
  RequireError("length(x)",
               "expression \"length(x)\": position 8: length() takes a STRING, got DOUBLE");
  RequireError("log1p(s)",
               "expression \"log1p(s)\": position 7: log1p() takes a number, got STRING");
  RequireError("coalesce(a, s)",
               "expression \"coalesce(a, s)\": position 13: coalesce() takes values of one kind, "
               "got INT64 and STRING");
  RequireError("min(a)",
               "expression \"min(a)\": position 1: min() takes 2 or more arguments, got 1");
  RequireError("clip(a, 1)",
               "expression \"clip(a, 1)\": position 1: clip() takes 3 arguments, got 2");
  RequireError("abs(a, b)", "expression \"abs(a, b)\": position 1: abs() takes 1 argument, got 2");
  RequireError("clip(a, 5, 1)",
               "expression \"clip(a, 5, 1)\": position 9: clip()'s lower bound is above its upper "
               "bound");
  RequireError("null", "expression \"null\": position 1: the expression is always null");
  RequireError("a + null", "expression \"a + null\": position 1: the expression is always null");
}

TEST_CASE("a FLOAT_VECTOR feature cannot be read", "[expressions]") {
  RequireError("v * 2",
               "expression \"v * 2\": position 1: feature \"v\" is a FLOAT_VECTOR; "
               "expressions read INT64, FLOAT, DOUBLE, BOOL and STRING features");
}

TEST_CASE("bucketize's boundaries are literal and strictly increasing", "[expressions]") {
  RequireError("bucketize(a, [1, 5, 5])",
               "expression \"bucketize(a, [1, 5, 5])\": position 14: bucketize()'s boundaries "
               "must be strictly increasing (5 then 5)");
  RequireError("bucketize(a, [3, -1])",
               "expression \"bucketize(a, [3, -1])\": position 14: bucketize()'s boundaries must "
               "be strictly increasing (3 then -1)");
  RequireError("bucketize(a, [1, b])",
               "expression \"bucketize(a, [1, b])\": position 18: a list holds number literals "
               "only");
  RequireError("bucketize(a, b)",
               "expression \"bucketize(a, b)\": position 14: bucketize()'s boundaries must be a "
               "list of numbers, e.g. [0, 10, 100]");
  RequireError("bucketize(a, [])",
               "expression \"bucketize(a, [])\": position 15: a list holds number literals only");
  RequireError("bucketize(s, [1])",
               "expression \"bucketize(s, [1])\": position 11: bucketize() takes a number, got "
               "STRING");
  RequireError("min(a, [1, 2])",
               "expression \"min(a, [1, 2])\": position 8: a list is only allowed as "
               "bucketize()'s boundaries");
  RequireError("[1, 2]",
               "expression \"[1, 2]\": position 1: a list is only allowed as bucketize()'s "
               "boundaries");
}

TEST_CASE("syntax errors give the position of the first bad token", "[expressions]") {
  RequireError("", "expression \"\": position 1: unexpected end of expression");
  RequireError("a +", "expression \"a +\": position 4: unexpected end of expression");
  RequireError("(a + b",
               "expression \"(a + b\": position 7: expected \")\", got end of expression");
  RequireError("a b", "expression \"a b\": position 3: unexpected \"b\"");
  RequireError("a = b", "expression \"a = b\": position 3: use == to compare");
  RequireError("!p", "expression \"!p\": position 1: use not, or != to compare");
  RequireError("a # b", "expression \"a # b\": position 3: unexpected character '#'");
  RequireError("\"open", "expression \"\"open\": position 1: unterminated string");
  RequireError("a < b < 3",
               "expression \"a < b < 3\": position 7: comparisons cannot be chained; combine them "
               "with and");
  RequireError("12abc", "expression \"12abc\": position 3: malformed number");
  RequireError("99999999999999999999",
               "expression \"99999999999999999999\": position 1: integer 99999999999999999999 out "
               "of range");
  RequireError("a and", "expression \"a and\": position 6: unexpected end of expression");
  RequireError("f(a)", "expression \"f(a)\": position 1: unknown function \"f\"");
}

TEST_CASE("nesting is bounded so that no text exhausts the stack", "[expressions]") {
  const std::string parens = std::string(200, '(') + "a" + std::string(200, ')');
  CHECK(CompileError(parens).code() == absl::StatusCode::kInvalidArgument);
  CHECK(CompileError(std::string(500, '-') + "a").code() == absl::StatusCode::kInvalidArgument);
  std::string chain = "a";
  for (int i = 0; i < 1000; ++i) chain += " + a";
  CHECK(CompileError(chain).code() == absl::StatusCode::kInvalidArgument);
  CHECK(CompileError(std::string(5000, ' ') + "a").code() == absl::StatusCode::kInvalidArgument);
  // Well within the bounds.
  CHECK(CompileError(std::string(30, '(') + "a" + std::string(30, ')')).ok());
}

}  // namespace
}  // namespace fabrique::features
