// Arithmetic, comparisons and logic over columns. INT64 arithmetic wraps around on overflow (as
// two's complement) rather than being undefined; `/` always gives DOUBLE.

#include <cmath>
#include <cstdint>

#include "libs/features/expressions/column.h"
#include "libs/features/expressions/column_loops.h"

namespace fabrique::features::expr {
namespace {

int64_t Wrap(uint64_t value) { return static_cast<int64_t>(value); }
uint64_t Bits(int64_t value) { return static_cast<uint64_t>(value); }

// Rows whose divisor is zero become null, each counted as a division by zero.
template <typename T>
void NullWhereZero(const std::vector<T>& divisor, bool divisor_constant, size_t rows, Column* out,
                   EvalContext* context) {
  for (size_t i = 0; i < rows; ++i) {
    if (divisor[divisor_constant ? 0 : i] != 0 || out->is_null(i)) continue;
    SetNull(out, i, rows);
    // A constant result stands for every row of the batch.
    context->warnings->division_by_zero += out->constant ? context->rows : 1;
  }
}

const Column& Negate(const Node& node, const Column& a, EvalContext* context) {
  Column& out = context->NewColumn(node.type, a.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = a.nulls;
  if (node.type == ValueType::kInt64) {
    MapColumn(a.ints, rows, &out.ints, [](int64_t x) { return Wrap(0 - Bits(x)); });
  } else {
    MapColumn(a.doubles, rows, &out.doubles, [](double x) { return -x; });
  }
  return out;
}

void IntArithmetic(Op op, const Column& a, const Column& b, size_t rows, Column* out,
                   EvalContext* context) {
  const bool ac = a.constant, bc = b.constant;
  switch (op) {
    case Op::kAdd:
      ZipColumns(a.ints, ac, b.ints, bc, rows, &out->ints,
                 [](int64_t x, int64_t y) { return Wrap(Bits(x) + Bits(y)); });
      break;
    case Op::kSub:
      ZipColumns(a.ints, ac, b.ints, bc, rows, &out->ints,
                 [](int64_t x, int64_t y) { return Wrap(Bits(x) - Bits(y)); });
      break;
    case Op::kMul:
      ZipColumns(a.ints, ac, b.ints, bc, rows, &out->ints,
                 [](int64_t x, int64_t y) { return Wrap(Bits(x) * Bits(y)); });
      break;
    default:  // kMod: the sign of the dividend, as in C and SQL.
      ZipColumns(a.ints, ac, b.ints, bc, rows, &out->ints,
                 [](int64_t x, int64_t y) { return y == 0 || y == -1 ? int64_t{0} : x % y; });
      NullWhereZero(b.ints, bc, rows, out, context);
      break;
  }
}

void DoubleArithmetic(Op op, const Column& a, const Column& b, size_t rows, Column* out,
                      EvalContext* context) {
  const bool ac = a.constant, bc = b.constant;
  switch (op) {
    case Op::kAdd:
      ZipColumns(a.doubles, ac, b.doubles, bc, rows, &out->doubles,
                 [](double x, double y) { return x + y; });
      break;
    case Op::kSub:
      ZipColumns(a.doubles, ac, b.doubles, bc, rows, &out->doubles,
                 [](double x, double y) { return x - y; });
      break;
    case Op::kMul:
      ZipColumns(a.doubles, ac, b.doubles, bc, rows, &out->doubles,
                 [](double x, double y) { return x * y; });
      break;
    case Op::kDiv:
      ZipColumns(a.doubles, ac, b.doubles, bc, rows, &out->doubles,
                 [](double x, double y) { return y == 0 ? 0.0 : x / y; });
      NullWhereZero(b.doubles, bc, rows, out, context);
      break;
    default:  // kMod
      ZipColumns(a.doubles, ac, b.doubles, bc, rows, &out->doubles,
                 [](double x, double y) { return y == 0 ? 0.0 : std::fmod(x, y); });
      NullWhereZero(b.doubles, bc, rows, out, context);
      break;
  }
}

template <typename T>
void Compare(Op op, const std::vector<T>& a, bool ac, const std::vector<T>& b, bool bc, size_t rows,
             std::vector<uint8_t>* out) {
  switch (op) {
    case Op::kLt:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x < y; });
    case Op::kLe:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x <= y; });
    case Op::kGt:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x > y; });
    case Op::kGe:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x >= y; });
    case Op::kEq:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x == y; });
    default:
      return ZipColumns(a, ac, b, bc, rows, out,
                        [](const T& x, const T& y) -> uint8_t { return x != y; });
  }
}

}  // namespace

const Column& EvaluateArithmetic(const Node& node, const std::vector<const Column*>& args,
                                 EvalContext* context) {
  if (node.op == Op::kNeg) return Negate(node, *args[0], context);
  const Column& a = *args[0];
  const Column& b = *args[1];
  Column& out = context->NewColumn(node.type, a.constant && b.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = MergeNulls(args, rows);
  if (node.type == ValueType::kInt64) {
    IntArithmetic(node.op, a, b, rows, &out, context);
  } else {
    DoubleArithmetic(node.op, AsDouble(a, context), AsDouble(b, context), rows, &out, context);
  }
  return out;
}

const Column& EvaluateComparison(const Node& node, const std::vector<const Column*>& args,
                                 EvalContext* context) {
  const Column& a = *args[0];
  const Column& b = *args[1];
  Column& out = context->NewColumn(ValueType::kBool, a.constant && b.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = MergeNulls(args, rows);
  const bool ac = a.constant, bc = b.constant;
  if (a.type == ValueType::kInt64 && b.type == ValueType::kInt64) {
    Compare(node.op, a.ints, ac, b.ints, bc, rows, &out.bools);
  } else if (IsNumeric(a.type)) {
    Compare(node.op, AsDouble(a, context).doubles, ac, AsDouble(b, context).doubles, bc, rows,
            &out.bools);
  } else if (a.type == ValueType::kString) {
    Compare(node.op, a.strings, ac, b.strings, bc, rows, &out.bools);
  } else {
    Compare(node.op, a.bools, ac, b.bools, bc, rows, &out.bools);
  }
  return out;
}

const Column& EvaluateLogic(const Node& node, const std::vector<const Column*>& args,
                            EvalContext* context) {
  const Column& a = *args[0];
  if (node.op == Op::kNot) {
    Column& out = context->NewColumn(ValueType::kBool, a.constant);
    out.nulls = a.nulls;
    MapColumn(a.bools, context->RowsOf(out), &out.bools, [](uint8_t x) -> uint8_t { return !x; });
    return out;
  }
  const Column& b = *args[1];
  Column& out = context->NewColumn(ValueType::kBool, a.constant && b.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = MergeNulls(args, rows);
  if (node.op == Op::kAnd) {
    ZipColumns(a.bools, a.constant, b.bools, b.constant, rows, &out.bools,
               [](uint8_t x, uint8_t y) -> uint8_t { return x & y; });
  } else {
    ZipColumns(a.bools, a.constant, b.bools, b.constant, rows, &out.bools,
               [](uint8_t x, uint8_t y) -> uint8_t { return x | y; });
  }
  return out;
}

}  // namespace fabrique::features::expr
