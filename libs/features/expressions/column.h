#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_H_

// Column: the values of one expression node for every row of a batch, the unit the evaluator
// works in. A literal is a constant column (one value standing for every row), so that
// `amount * 2` needs no column of twos.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "libs/features/expressions/expression.h"
#include "libs/features/expressions/syntax_tree.h"

namespace fabrique::features::expr {

struct Column {
  ValueType type = ValueType::kNull;
  bool constant = false;
  // The list of `type`; a null row holds the type's zero value.
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  std::vector<absl::string_view> strings;  // Into the batch, the tree or EvalContext::strings.
  std::vector<uint8_t> nulls;              // Empty when no row is null.

  size_t index(size_t row) const { return constant ? 0 : row; }
  bool is_null(size_t row) const { return !nulls.empty() && nulls[index(row)] != 0; }
};

// What one evaluation owns: the intermediate columns and the strings computed on the way.
// Deques, so that references handed out stay valid while more are added.
struct EvalContext {
  size_t rows = 0;
  ExpressionWarnings* warnings = nullptr;
  const std::vector<Column>* inputs = nullptr;  // By input index.
  std::deque<Column> columns;
  std::deque<std::string> strings;

  // A new column for a node's result: constant when every argument is.
  Column& NewColumn(ValueType type, bool constant) {
    Column& column = columns.emplace_back();
    column.type = type;
    column.constant = constant;
    return column;
  }
  size_t RowsOf(const Column& column) const { return column.constant ? 1 : rows; }
};

// Makes `column` (of its type) constant and null: one zero value standing for every row.
void SetAllNull(Column* column);

// The row-wise OR of the arguments' null flags; empty when none has a null.
std::vector<uint8_t> MergeNulls(const std::vector<const Column*>& args, size_t rows);

// `column` as DOUBLE (itself when it already is).
const Column& AsDouble(const Column& column, EvalContext* context);

// The value of `node` (already type-checked) for every row. `node` must outlive `context`.
const Column& EvaluateNode(const Node& node, EvalContext* context);

// Operators and functions, by family; each gets the node's evaluated arguments.
const Column& EvaluateArithmetic(const Node& node, const std::vector<const Column*>& args,
                                 EvalContext* context);
const Column& EvaluateComparison(const Node& node, const std::vector<const Column*>& args,
                                 EvalContext* context);
const Column& EvaluateLogic(const Node& node, const std::vector<const Column*>& args,
                            EvalContext* context);
const Column& EvaluateFunction(const Node& node, const std::vector<const Column*>& args,
                               EvalContext* context);

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_H_
