#include "libs/features/expressions/expression.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/expressions/column.h"
#include "libs/features/expressions/parser.h"
#include "libs/features/expressions/syntax_tree.h"
#include "libs/features/expressions/type_check.h"

namespace fabrique::features {
namespace {

using expr::Column;
using expr::EvalContext;
using expr::Node;
using expr::Op;
using expr::ValueType;

v1::FeatureType ResultFeatureType(ValueType type) {
  switch (type) {
    case ValueType::kInt64:
      return v1::FEATURE_TYPE_INT64;
    case ValueType::kDouble:
      return v1::FEATURE_TYPE_DOUBLE;
    case ValueType::kBool:
      return v1::FEATURE_TYPE_BOOL;
    case ValueType::kString:
      return v1::FEATURE_TYPE_STRING;
    case ValueType::kNull:
      break;
  }
  return v1::FEATURE_TYPE_UNSPECIFIED;
}

// Replaces every operator whose arguments are all literals by its value, so that batches never
// recompute `2 * 60` and a literal division by zero is refused when the group is applied.
absl::Status FoldConstants(absl::string_view text, Node* node) {
  bool all_literal = true;
  bool null_argument = false;
  for (auto& arg : node->args) {
    RETURN_IF_ERROR(FoldConstants(text, arg.get()));
    all_literal = all_literal && (arg->op == Op::kLiteral || arg->op == Op::kList);
    null_argument = null_argument || (arg->op == Op::kLiteral && arg->type == ValueType::kNull);
  }
  if (null_argument && node->op != Op::kCoalesce) {  // Null whatever the other arguments.
    const int position = node->position;
    *node = Node();
    node->position = position;
    return absl::OkStatus();
  }
  if ((node->op == Op::kDiv || node->op == Op::kMod) && node->args[1]->op == Op::kLiteral &&
      ((node->args[1]->type == ValueType::kInt64 && node->args[1]->int_value == 0) ||
       (node->args[1]->type == ValueType::kDouble && node->args[1]->double_value == 0))) {
    return expr::ExpressionError(text, node->position, "division by zero");
  }
  if (node->op == Op::kLiteral || node->op == Op::kFeature || node->op == Op::kList ||
      !all_literal) {
    return absl::OkStatus();
  }
  ExpressionWarnings warnings;
  EvalContext context;
  context.rows = 1;
  context.warnings = &warnings;
  const Column& value = expr::EvaluateNode(*node, &context);
  if (warnings.division_by_zero > 0) {
    return expr::ExpressionError(text, node->position, "division by zero");
  }
  if (warnings.domain > 0) {
    return expr::ExpressionError(text, node->position, "log1p() of a value <= -1");
  }
  Node literal;
  literal.op = Op::kLiteral;
  literal.position = node->position;
  literal.type = value.is_null(0) ? ValueType::kNull : value.type;
  switch (literal.type) {
    case ValueType::kInt64:
      literal.int_value = value.ints[0];
      break;
    case ValueType::kDouble:
      literal.double_value = value.doubles[0];
      break;
    case ValueType::kBool:
      literal.bool_value = value.bools[0] != 0;
      break;
    case ValueType::kString:
      literal.string_value = std::string(value.strings[0]);
      break;
    case ValueType::kNull:
      break;
  }
  *node = std::move(literal);
  return absl::OkStatus();
}

// Reads one input column of the batch as the evaluator's Column.
absl::Status ReadInput(const std::string& name, v1::FeatureType type, const v1::RowBatch& rows,
                       Column* column) {
  const size_t n = rows.entity_keys_size();
  column->type = expr::InputValueType(type);
  const v1::FeatureColumn* found = nullptr;
  for (const v1::FeatureColumn& candidate : rows.columns()) {
    if (candidate.feature().feature() == name) {
      found = &candidate;
      break;
    }
  }
  if (found == nullptr) {  // Absent: null in every row.
    expr::SetAllNull(column);
    return absl::OkStatus();
  }
  const v1::ValueColumn& values = found->values();
  int size = -1;
  switch (type) {
    case v1::FEATURE_TYPE_INT64:
      if (!values.has_int64_values()) break;
      size = values.int64_values().values_size();
      column->ints.assign(values.int64_values().values().begin(),
                          values.int64_values().values().end());
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      if (!values.has_double_values()) break;
      size = values.double_values().values_size();
      column->doubles.assign(values.double_values().values().begin(),
                             values.double_values().values().end());
      break;
    case v1::FEATURE_TYPE_FLOAT:
      if (!values.has_float_values()) break;
      size = values.float_values().values_size();
      column->doubles.assign(values.float_values().values().begin(),
                             values.float_values().values().end());
      break;
    case v1::FEATURE_TYPE_BOOL:
      if (!values.has_bool_values()) break;
      size = values.bool_values().values_size();
      column->bools.assign(values.bool_values().values().begin(),
                           values.bool_values().values().end());
      break;
    default:  // STRING
      if (!values.has_string_values()) break;
      size = values.string_values().values_size();
      column->strings.assign(values.string_values().values().begin(),
                             values.string_values().values().end());
      break;
  }
  if (size < 0 && n == 0 && values.values_case() == v1::ValueColumn::VALUES_NOT_SET) {
    return absl::OkStatus();  // An empty batch has no list to set.
  }
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature \"", name, "\": expected a list of ", expr::ShortTypeName(type)));
  }
  if (static_cast<size_t>(size) != n ||
      (values.is_null_size() != 0 && static_cast<size_t>(values.is_null_size()) != n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature \"", name, "\": ", size, " values for ", n, " rows"));
  }
  column->nulls.assign(values.is_null().begin(), values.is_null().end());
  return absl::OkStatus();
}

// Writes `column` (broadcast when constant) as `rows` values of its type.
void WriteOutput(const Column& column, size_t rows, v1::ValueColumn* out) {
  out->Clear();
  bool any_null = false;
  for (size_t i = 0; i < rows && !column.nulls.empty(); ++i) any_null |= column.is_null(i);
  if (any_null) {
    out->mutable_is_null()->Reserve(rows);
    for (size_t i = 0; i < rows; ++i) out->add_is_null(column.is_null(i));
  }
  switch (column.type) {
    case ValueType::kInt64: {
      auto* values = out->mutable_int64_values()->mutable_values();
      values->Resize(rows, 0);
      for (size_t i = 0; i < rows; ++i) {
        values->Set(i, column.is_null(i) ? 0 : column.ints[column.index(i)]);
      }
      break;
    }
    case ValueType::kDouble: {
      auto* values = out->mutable_double_values()->mutable_values();
      values->Resize(rows, 0);
      for (size_t i = 0; i < rows; ++i) {
        values->Set(i, column.is_null(i) ? 0 : column.doubles[column.index(i)]);
      }
      break;
    }
    case ValueType::kBool: {
      auto* values = out->mutable_bool_values()->mutable_values();
      values->Resize(rows, false);
      for (size_t i = 0; i < rows; ++i) {
        values->Set(i, !column.is_null(i) && column.bools[column.index(i)] != 0);
      }
      break;
    }
    default: {
      auto* values = out->mutable_string_values()->mutable_values();
      values->Reserve(rows);
      for (size_t i = 0; i < rows; ++i) {
        absl::string_view value =
            column.is_null(i) ? absl::string_view() : column.strings[column.index(i)];
        values->Add()->assign(value.data(), value.size());
      }
      break;
    }
  }
}

class CompiledExpression : public Expression {
 public:
  CompiledExpression(std::string text, std::unique_ptr<Node> root, ValueType result_type,
                     std::vector<std::string> inputs, std::vector<v1::FeatureType> input_types)
      : text_(std::move(text)),
        root_(std::move(root)),
        result_type_(result_type),
        inputs_(std::move(inputs)),
        input_types_(std::move(input_types)) {}

  v1::FeatureType result_type() const override { return ResultFeatureType(result_type_); }
  const std::vector<std::string>& inputs() const override { return inputs_; }
  const std::string& text() const override { return text_; }

  absl::Status Evaluate(const v1::RowBatch& rows, v1::ValueColumn* out,
                        ExpressionWarnings* warnings) const override {
    std::vector<Column> inputs(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      RETURN_IF_ERROR(ReadInput(inputs_[i], input_types_[i], rows, &inputs[i]));
    }
    ExpressionWarnings counted;
    EvalContext context;
    context.rows = rows.entity_keys_size();
    context.warnings = &counted;
    context.inputs = &inputs;
    WriteOutput(expr::EvaluateNode(*root_, &context), context.rows, out);
    if (warnings != nullptr) {
      warnings->division_by_zero += counted.division_by_zero;
      warnings->domain += counted.domain;
    }
    return absl::OkStatus();
  }

 private:
  std::string text_;
  std::unique_ptr<Node> root_;
  ValueType result_type_;
  std::vector<std::string> inputs_;
  std::vector<v1::FeatureType> input_types_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Expression>> Expression::Compile(
    absl::string_view text, const absl::flat_hash_map<std::string, v1::FeatureType>& inputs) {
  ASSIGN_OR_RETURN(std::unique_ptr<Node> root, expr::Parse(text));
  std::vector<std::string> names;
  RETURN_IF_ERROR(expr::CheckTypes(text, inputs, root.get(), &names));
  const ValueType result_type = root->type;
  RETURN_IF_ERROR(FoldConstants(text, root.get()));
  if (result_type == ValueType::kNull ||
      (root->op == Op::kLiteral && root->type == ValueType::kNull)) {
    return expr::ExpressionError(text, 1, "the expression is always null");
  }
  std::vector<v1::FeatureType> input_types;
  input_types.reserve(names.size());
  for (const std::string& name : names) input_types.push_back(inputs.at(name));
  return std::unique_ptr<Expression>(new CompiledExpression(
      std::string(text), std::move(root), result_type, std::move(names), std::move(input_types)));
}

}  // namespace fabrique::features
