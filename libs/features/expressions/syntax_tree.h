#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_SYNTAX_TREE_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_SYNTAX_TREE_H_

// The parsed form of an expression: a tree of nodes, each with the 1-based position of its first
// character in the text, typed by CheckTypes and evaluated column by column by EvaluateNode.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::features::expr {

// Types of values inside an expression. kNull is the type of the literal `null`, which fits
// wherever a value does.
enum class ValueType { kNull, kInt64, kDouble, kBool, kString };

const char* ValueTypeName(ValueType type);
inline bool IsNumeric(ValueType type) {
  return type == ValueType::kInt64 || type == ValueType::kDouble;
}

enum class Op {
  // Leaves.
  kLiteral,
  kFeature,
  kList,  // Only as bucketize's boundaries.
  // Operators.
  kNeg,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kAnd,
  kOr,
  kNot,
  // Functions.
  kLog1p,
  kAbs,
  kMin,
  kMax,
  kClip,
  kBucketize,
  kLower,
  kLength,
  kCoalesce,
};

// The operator's spelling in error messages ("+", "log1p()").
const char* OpName(Op op);

struct Node {
  Op op = Op::kLiteral;
  int position = 1;  // 1-based byte offset of the node's first character.
  ValueType type = ValueType::kNull;
  std::vector<std::unique_ptr<Node>> args;

  // kLiteral: the value (per `type`; a kNull literal uses none).
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
  std::string string_value;
  // kFeature: its name, then (after CheckTypes) its index in the sorted input list.
  std::string name;
  int input_index = -1;
  // kList: the numbers, as written.
  std::vector<double> numbers;
};

// INVALID_ARGUMENT `expression "<text>": position N: <what>`.
absl::Status ExpressionError(absl::string_view text, int position, absl::string_view what);

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_SYNTAX_TREE_H_
