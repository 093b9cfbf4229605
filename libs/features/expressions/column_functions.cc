// The functions of the language over columns: log1p, abs, min, max, clip, bucketize, lower,
// length and coalesce.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "libs/features/expressions/column.h"
#include "libs/features/expressions/column_loops.h"

namespace fabrique::features::expr {
namespace {

const Column& Log1p(const Column& arg, EvalContext* context) {
  const Column& x = AsDouble(arg, context);
  Column& out = context->NewColumn(ValueType::kDouble, x.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = x.nulls;
  MapColumn(x.doubles, rows, &out.doubles, [](double v) { return v <= -1 ? 0.0 : std::log1p(v); });
  // log1p is -infinity at -1 and undefined below: null, counted.
  for (size_t i = 0; i < rows; ++i) {
    if (x.doubles[i] > -1 || out.is_null(i)) continue;
    SetNull(&out, i, rows);
    context->warnings->domain += out.constant ? context->rows : 1;
  }
  return out;
}

const Column& Abs(const Column& x, EvalContext* context) {
  Column& out = context->NewColumn(x.type, x.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = x.nulls;
  if (x.type == ValueType::kInt64) {
    MapColumn(x.ints, rows, &out.ints, [](int64_t v) {
      return v < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(v)) : v;
    });
  } else {
    MapColumn(x.doubles, rows, &out.doubles, [](double v) { return std::fabs(v); });
  }
  return out;
}

// The smaller (or larger) of two columns of `type`, row by row.
const Column& Extreme(ValueType type, const Column& a, const Column& b, bool smaller,
                      EvalContext* context) {
  Column& out = context->NewColumn(type, a.constant && b.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = MergeNulls({&a, &b}, rows);
  if (type == ValueType::kInt64) {
    if (smaller) {
      ZipColumns(a.ints, a.constant, b.ints, b.constant, rows, &out.ints,
                 [](int64_t x, int64_t y) { return std::min(x, y); });
    } else {
      ZipColumns(a.ints, a.constant, b.ints, b.constant, rows, &out.ints,
                 [](int64_t x, int64_t y) { return std::max(x, y); });
    }
    return out;
  }
  const Column& x = AsDouble(a, context);
  const Column& y = AsDouble(b, context);
  // fmin/fmax: a NaN argument loses to a number.
  if (smaller) {
    ZipColumns(x.doubles, x.constant, y.doubles, y.constant, rows, &out.doubles,
               [](double p, double q) { return std::fmin(p, q); });
  } else {
    ZipColumns(x.doubles, x.constant, y.doubles, y.constant, rows, &out.doubles,
               [](double p, double q) { return std::fmax(p, q); });
  }
  return out;
}

const Column& Bucketize(const Node& node, const Column& arg, EvalContext* context) {
  const std::vector<double>& bounds = node.args[1]->numbers;
  const Column& x = AsDouble(arg, context);
  Column& out = context->NewColumn(ValueType::kInt64, x.constant);
  out.nulls = x.nulls;
  // The number of boundaries <= x, as numpy.digitize(x, bounds, right=False).
  MapColumn(x.doubles, context->RowsOf(out), &out.ints, [&bounds](double v) {
    return static_cast<int64_t>(std::upper_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
  });
  return out;
}

// ASCII letters only: the other bytes of UTF-8 text are kept as they are.
const Column& Lower(const Column& s, EvalContext* context) {
  Column& out = context->NewColumn(ValueType::kString, s.constant);
  const size_t rows = context->RowsOf(out);
  out.nulls = s.nulls;
  out.strings.resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    absl::string_view value = s.strings[i];
    if (std::none_of(value.begin(), value.end(), absl::ascii_isupper)) {
      out.strings[i] = value;  // Already lower case: no copy.
      continue;
    }
    out.strings[i] = context->strings.emplace_back(absl::AsciiStrToLower(value));
  }
  return out;
}

// In Unicode code points (UTF-8 bytes that do not continue a sequence), as Python's len().
const Column& Length(const Column& s, EvalContext* context) {
  Column& out = context->NewColumn(ValueType::kInt64, s.constant);
  out.nulls = s.nulls;
  MapColumn(s.strings, context->RowsOf(out), &out.ints, [](absl::string_view v) {
    return static_cast<int64_t>(
        std::count_if(v.begin(), v.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  });
  return out;
}

// Row by row, the first argument that is not null; null when all are.
const Column& Coalesce(const Node& node, const std::vector<const Column*>& args,
                       EvalContext* context) {
  bool constant = true;
  for (const Column* arg : args) constant = constant && arg->constant;
  Column& out = context->NewColumn(node.type, constant);
  const size_t rows = context->RowsOf(out);
  out.nulls.assign(rows, 1);
  out.ints.resize(node.type == ValueType::kInt64 ? rows : 0);
  out.doubles.resize(node.type == ValueType::kDouble ? rows : 0);
  out.bools.resize(node.type == ValueType::kBool ? rows : 0);
  out.strings.resize(node.type == ValueType::kString ? rows : 0);
  size_t remaining = rows;
  for (const Column* arg : args) {
    if (remaining == 0) break;
    if (arg->type == ValueType::kNull) continue;
    const Column& value = node.type == ValueType::kDouble ? AsDouble(*arg, context) : *arg;
    for (size_t i = 0; i < rows; ++i) {
      if (!out.nulls[i] || value.is_null(i)) continue;
      const size_t j = value.index(i);
      switch (node.type) {
        case ValueType::kInt64:
          out.ints[i] = value.ints[j];
          break;
        case ValueType::kDouble:
          out.doubles[i] = value.doubles[j];
          break;
        case ValueType::kBool:
          out.bools[i] = value.bools[j];
          break;
        default:
          out.strings[i] = value.strings[j];
          break;
      }
      out.nulls[i] = 0;
      --remaining;
    }
  }
  if (remaining == 0) out.nulls.clear();
  return out;
}

}  // namespace

const Column& EvaluateFunction(const Node& node, const std::vector<const Column*>& args,
                               EvalContext* context) {
  switch (node.op) {
    case Op::kLog1p:
      return Log1p(*args[0], context);
    case Op::kAbs:
      return Abs(*args[0], context);
    case Op::kMin:
    case Op::kMax: {
      const Column* result = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        result = &Extreme(node.type, *result, *args[i], node.op == Op::kMin, context);
      }
      return *result;
    }
    case Op::kClip: {
      const Column& floor = Extreme(node.type, *args[0], *args[1], /*smaller=*/false, context);
      return Extreme(node.type, floor, *args[2], /*smaller=*/true, context);
    }
    case Op::kBucketize:
      return Bucketize(node, *args[0], context);
    case Op::kLower:
      return Lower(*args[0], context);
    case Op::kLength:
      return Length(*args[0], context);
    default:
      return Coalesce(node, args, context);
  }
}

}  // namespace fabrique::features::expr
