// Evaluation of a typed tree, node by node, each node over the whole batch at once: the cost of
// walking the tree is paid once per batch, and every operator is a tight loop over a column.

#include <utility>
#include <vector>

#include "libs/features/expressions/column.h"

namespace fabrique::features::expr {
namespace {

// A constant null column of `type`, standing for every row.
const Column& AllNull(ValueType type, EvalContext* context) {
  Column& column = context->NewColumn(type, /*constant=*/true);
  SetAllNull(&column);
  return column;
}

const Column& Literal(const Node& node, EvalContext* context) {
  if (node.type == ValueType::kNull) return AllNull(ValueType::kNull, context);
  Column& column = context->NewColumn(node.type, /*constant=*/true);
  switch (node.type) {
    case ValueType::kInt64:
      column.ints.assign(1, node.int_value);
      break;
    case ValueType::kDouble:
      column.doubles.assign(1, node.double_value);
      break;
    case ValueType::kBool:
      column.bools.assign(1, node.bool_value ? 1 : 0);
      break;
    case ValueType::kString:
      column.strings.assign(1, node.string_value);
      break;
    case ValueType::kNull:
      break;
  }
  return column;
}

}  // namespace

void SetAllNull(Column* column) {
  column->constant = true;
  column->nulls.assign(1, 1);
  column->ints.assign(1, 0);
  column->doubles.assign(1, 0);
  column->bools.assign(1, 0);
  column->strings.assign(1, absl::string_view());
}

std::vector<uint8_t> MergeNulls(const std::vector<const Column*>& args, size_t rows) {
  std::vector<uint8_t> nulls;
  for (const Column* arg : args) {
    if (arg->nulls.empty()) continue;
    if (nulls.empty()) nulls.assign(rows, 0);
    if (arg->constant) {
      if (arg->nulls[0]) nulls.assign(rows, 1);
      continue;
    }
    for (size_t i = 0; i < rows; ++i) nulls[i] |= arg->nulls[i];
  }
  return nulls;
}

const Column& AsDouble(const Column& column, EvalContext* context) {
  if (column.type != ValueType::kInt64) return column;
  Column& converted = context->NewColumn(ValueType::kDouble, column.constant);
  converted.doubles.assign(column.ints.begin(), column.ints.end());
  converted.nulls = column.nulls;
  return converted;
}

const Column& EvaluateNode(const Node& node, EvalContext* context) {
  switch (node.op) {
    case Op::kLiteral:
      return Literal(node, context);
    case Op::kFeature:
      return (*context->inputs)[node.input_index];
    default:
      break;
  }
  std::vector<const Column*> args;
  args.reserve(node.args.size());
  for (const auto& arg : node.args) {
    if (arg->op == Op::kList) continue;  // bucketize's boundaries are read from the node.
    const Column& value = EvaluateNode(*arg, context);
    // A null literal makes every row null, except where coalesce skips it.
    if (value.type == ValueType::kNull && node.op != Op::kCoalesce) {
      return AllNull(node.type, context);
    }
    args.push_back(&value);
  }
  switch (node.op) {
    case Op::kNeg:
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
      return EvaluateArithmetic(node, args, context);
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
      return EvaluateComparison(node, args, context);
    case Op::kAnd:
    case Op::kOr:
    case Op::kNot:
      return EvaluateLogic(node, args, context);
    default:
      return EvaluateFunction(node, args, context);
  }
}

}  // namespace fabrique::features::expr
