#include "libs/features/expressions/type_check.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/core/status_macros.h"

namespace fabrique::features::expr {
namespace {

bool IsLiteral(const Node& node) { return node.op == Op::kLiteral; }

double LiteralNumber(const Node& node) {
  return node.type == ValueType::kInt64 ? static_cast<double>(node.int_value) : node.double_value;
}

// INT64 when every operand is INT64 (or null), DOUBLE when any is DOUBLE, null when all are null.
ValueType Promote(const Node& node) {
  ValueType type = ValueType::kNull;
  for (const auto& arg : node.args) {
    if (arg->type == ValueType::kDouble) return ValueType::kDouble;
    if (arg->type == ValueType::kInt64) type = ValueType::kInt64;
  }
  return type;
}

class TypeChecker {
 public:
  TypeChecker(absl::string_view text,
              const absl::flat_hash_map<std::string, v1::FeatureType>& inputs)
      : text_(text), inputs_(inputs) {}

  absl::Status Check(Node* node, int depth) {
    if (depth > kMaxTreeDepth) return Error(*node, "expression nested too deeply");
    for (size_t i = 0; i < node->args.size(); ++i) {
      Node* arg = node->args[i].get();
      if (arg->op == Op::kList && !(node->op == Op::kBucketize && i == 1)) {
        return Error(*arg, "a list is only allowed as bucketize()'s boundaries");
      }
      RETURN_IF_ERROR(Check(arg, depth + 1));
    }
    switch (node->op) {
      case Op::kLiteral:
      case Op::kList:
        return absl::OkStatus();
      case Op::kFeature:
        return CheckFeature(node);
      case Op::kNeg:
      case Op::kAbs:
        RETURN_IF_ERROR(Arity(*node, 1, 1));
        RETURN_IF_ERROR(Numeric(*node, *node->args[0]));
        node->type = node->args[0]->type;
        return absl::OkStatus();
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kMod:
      case Op::kMin:
      case Op::kMax:
      case Op::kClip:
        return CheckNumeric(node);
      case Op::kDiv:
        RETURN_IF_ERROR(CheckNumeric(node));
        node->type = ValueType::kDouble;
        return absl::OkStatus();
      case Op::kLog1p:
        RETURN_IF_ERROR(Arity(*node, 1, 1));
        RETURN_IF_ERROR(Numeric(*node, *node->args[0]));
        node->type = ValueType::kDouble;
        return absl::OkStatus();
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
      case Op::kEq:
      case Op::kNe:
        return CheckComparison(node);
      case Op::kAnd:
      case Op::kOr:
      case Op::kNot:
        for (const auto& arg : node->args) RETURN_IF_ERROR(Expect(*node, *arg, ValueType::kBool));
        node->type = ValueType::kBool;
        return absl::OkStatus();
      case Op::kBucketize:
        return CheckBucketize(node);
      case Op::kLower:
      case Op::kLength:
        RETURN_IF_ERROR(Arity(*node, 1, 1));
        RETURN_IF_ERROR(Expect(*node, *node->args[0], ValueType::kString));
        node->type = node->op == Op::kLower ? ValueType::kString : ValueType::kInt64;
        return absl::OkStatus();
      case Op::kCoalesce:
        return CheckCoalesce(node);
    }
    return Error(*node, "unsupported operator");
  }

  std::vector<std::string> TakeInputNames(Node* root) {
    std::vector<std::string> names(seen_.begin(), seen_.end());
    std::sort(names.begin(), names.end());
    AssignIndexes(root, names);
    return names;
  }

 private:
  absl::Status Error(const Node& at, absl::string_view what) const {
    return ExpressionError(text_, at.position, what);
  }

  absl::Status Arity(const Node& node, size_t min, size_t max) const {
    const size_t n = node.args.size();
    if (n >= min && n <= max) return absl::OkStatus();
    std::string wanted = min == max        ? absl::StrCat(min)
                         : max == SIZE_MAX ? absl::StrCat(min, " or more")
                                           : absl::StrCat(min, " to ", max);
    return Error(node, absl::StrCat(OpName(node.op), " takes ", wanted, " argument",
                                    min == 1 && max == 1 ? "" : "s", ", got ", n));
  }

  absl::Status Numeric(const Node& op, const Node& arg) const {
    if (IsNumeric(arg.type) || arg.type == ValueType::kNull) return absl::OkStatus();
    return Error(arg,
                 absl::StrCat(OpName(op.op), " takes a number, got ", ValueTypeName(arg.type)));
  }

  absl::Status Expect(const Node& op, const Node& arg, ValueType type) const {
    if (arg.type == type || arg.type == ValueType::kNull) return absl::OkStatus();
    return Error(arg, absl::StrCat(OpName(op.op), " takes a ", ValueTypeName(type), ", got ",
                                   ValueTypeName(arg.type)));
  }

  absl::Status CheckFeature(Node* node) {
    auto input = inputs_.find(node->name);
    if (input == inputs_.end()) {
      return Error(*node, absl::StrCat("unknown feature \"", node->name, "\""));
    }
    node->type = InputValueType(input->second);
    if (node->type == ValueType::kNull) {
      return Error(*node,
                   absl::StrCat("feature \"", node->name, "\" is a ", ShortTypeName(input->second),
                                "; expressions read INT64, FLOAT, DOUBLE, BOOL and "
                                "STRING features"));
    }
    seen_.insert(node->name);
    return absl::OkStatus();
  }

  absl::Status CheckNumeric(Node* node) {
    switch (node->op) {
      case Op::kMin:
      case Op::kMax:
        RETURN_IF_ERROR(Arity(*node, 2, SIZE_MAX));
        break;
      case Op::kClip:
        RETURN_IF_ERROR(Arity(*node, 3, 3));
        break;
      default:
        break;
    }
    for (const auto& arg : node->args) RETURN_IF_ERROR(Numeric(*node, *arg));
    if (node->op == Op::kClip && IsLiteral(*node->args[1]) && IsLiteral(*node->args[2]) &&
        IsNumeric(node->args[1]->type) && IsNumeric(node->args[2]->type) &&
        LiteralNumber(*node->args[1]) > LiteralNumber(*node->args[2])) {
      return Error(*node->args[1], "clip()'s lower bound is above its upper bound");
    }
    node->type = Promote(*node);
    return absl::OkStatus();
  }

  absl::Status CheckComparison(Node* node) {
    const Node& a = *node->args[0];
    const Node& b = *node->args[1];
    node->type = ValueType::kBool;
    if (a.type == ValueType::kNull || b.type == ValueType::kNull) return absl::OkStatus();
    const bool ordered = node->op != Op::kEq && node->op != Op::kNe;
    if (IsNumeric(a.type) && IsNumeric(b.type)) return absl::OkStatus();
    if (a.type == b.type && (a.type == ValueType::kString || !ordered)) return absl::OkStatus();
    if (a.type == b.type) {
      return Error(*node, absl::StrCat(OpName(node->op), " does not order BOOL values"));
    }
    return Error(*node, absl::StrCat(OpName(node->op), " compares values of one kind, got ",
                                     ValueTypeName(a.type), " and ", ValueTypeName(b.type)));
  }

  absl::Status CheckBucketize(Node* node) {
    RETURN_IF_ERROR(Arity(*node, 2, 2));
    RETURN_IF_ERROR(Numeric(*node, *node->args[0]));
    const Node& list = *node->args[1];
    if (list.op != Op::kList) {
      return Error(list, "bucketize()'s boundaries must be a list of numbers, e.g. [0, 10, 100]");
    }
    for (size_t i = 1; i < list.numbers.size(); ++i) {
      if (!(list.numbers[i - 1] < list.numbers[i])) {
        return Error(list, absl::StrCat("bucketize()'s boundaries must be strictly increasing (",
                                        list.numbers[i - 1], " then ", list.numbers[i], ")"));
      }
    }
    node->type = ValueType::kInt64;
    return absl::OkStatus();
  }

  absl::Status CheckCoalesce(Node* node) {
    RETURN_IF_ERROR(Arity(*node, 2, SIZE_MAX));
    ValueType type = ValueType::kNull;
    for (const auto& arg : node->args) {
      if (arg->type == ValueType::kNull) continue;
      if (type == ValueType::kNull || type == arg->type) {
        type = arg->type;
      } else if (IsNumeric(type) && IsNumeric(arg->type)) {
        type = ValueType::kDouble;
      } else {
        return Error(*arg, absl::StrCat("coalesce() takes values of one kind, got ",
                                        ValueTypeName(type), " and ", ValueTypeName(arg->type)));
      }
    }
    node->type = type;
    return absl::OkStatus();
  }

  static void AssignIndexes(Node* node, const std::vector<std::string>& names) {
    if (node->op == Op::kFeature) {
      node->input_index = static_cast<int>(
          std::lower_bound(names.begin(), names.end(), node->name) - names.begin());
    }
    for (auto& arg : node->args) AssignIndexes(arg.get(), names);
  }

  absl::string_view text_;
  const absl::flat_hash_map<std::string, v1::FeatureType>& inputs_;
  absl::flat_hash_set<std::string> seen_;
};

}  // namespace

std::string ShortTypeName(v1::FeatureType type) {
  return std::string(absl::StripPrefix(v1::FeatureType_Name(type), "FEATURE_TYPE_"));
}

ValueType InputValueType(v1::FeatureType type) {
  switch (type) {
    case v1::FEATURE_TYPE_INT64:
      return ValueType::kInt64;
    case v1::FEATURE_TYPE_FLOAT:
    case v1::FEATURE_TYPE_DOUBLE:
      return ValueType::kDouble;
    case v1::FEATURE_TYPE_BOOL:
      return ValueType::kBool;
    case v1::FEATURE_TYPE_STRING:
      return ValueType::kString;
    default:
      return ValueType::kNull;
  }
}

absl::Status CheckTypes(absl::string_view text,
                        const absl::flat_hash_map<std::string, v1::FeatureType>& inputs, Node* root,
                        std::vector<std::string>* input_names) {
  TypeChecker checker(text, inputs);
  RETURN_IF_ERROR(checker.Check(root, 1));
  if (root->op == Op::kList) {
    return ExpressionError(text, root->position,
                           "a list is only allowed as bucketize()'s boundaries");
  }
  *input_names = checker.TakeInputNames(root);
  return absl::OkStatus();
}

}  // namespace fabrique::features::expr
