#include "libs/features/expressions/syntax_tree.h"

#include "absl/strings/str_cat.h"

namespace fabrique::features::expr {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "null";
    case ValueType::kInt64:
      return "INT64";
    case ValueType::kDouble:
      return "DOUBLE";
    case ValueType::kBool:
      return "BOOL";
    case ValueType::kString:
      return "STRING";
  }
  return "?";
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kLiteral:
      return "literal";
    case Op::kFeature:
      return "feature";
    case Op::kList:
      return "list";
    case Op::kNeg:
    case Op::kSub:
      return "-";
    case Op::kAdd:
      return "+";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kNot:
      return "not";
    case Op::kLog1p:
      return "log1p()";
    case Op::kAbs:
      return "abs()";
    case Op::kMin:
      return "min()";
    case Op::kMax:
      return "max()";
    case Op::kClip:
      return "clip()";
    case Op::kBucketize:
      return "bucketize()";
    case Op::kLower:
      return "lower()";
    case Op::kLength:
      return "length()";
    case Op::kCoalesce:
      return "coalesce()";
  }
  return "?";
}

absl::Status ExpressionError(absl::string_view text, int position, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("expression \"", text, "\": position ", position, ": ", what));
}

}  // namespace fabrique::features::expr
