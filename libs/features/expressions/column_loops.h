#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_LOOPS_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_LOOPS_H_

// The loops every operator runs: one element-wise function over one or two columns, with the
// constant cases hoisted out so that each loop is a plain pass the compiler can vectorize.

#include <cstddef>
#include <vector>

#include "libs/features/expressions/column.h"

namespace fabrique::features::expr {

template <typename In, typename Out, typename F>
void MapColumn(const std::vector<In>& a, size_t rows, std::vector<Out>* out, F f) {
  out->resize(rows);
  for (size_t i = 0; i < rows; ++i) (*out)[i] = f(a[i]);
}

// `a` and `b` hold one value when constant; `rows` is 1 when both are.
template <typename In, typename Out, typename F>
void ZipColumns(const std::vector<In>& a, bool a_constant, const std::vector<In>& b,
                bool b_constant, size_t rows, std::vector<Out>* out, F f) {
  out->resize(rows);
  Out* o = out->data();
  if (a_constant && b_constant) {
    for (size_t i = 0; i < rows; ++i) o[i] = f(a[0], b[0]);
  } else if (a_constant) {
    const In x = a[0];
    for (size_t i = 0; i < rows; ++i) o[i] = f(x, b[i]);
  } else if (b_constant) {
    const In y = b[0];
    for (size_t i = 0; i < rows; ++i) o[i] = f(a[i], y);
  } else {
    for (size_t i = 0; i < rows; ++i) o[i] = f(a[i], b[i]);
  }
}

// Sets row `row` of `column` (of `rows` rows) null.
inline void SetNull(Column* column, size_t row, size_t rows) {
  if (column->nulls.empty()) column->nulls.assign(rows, 0);
  column->nulls[row] = 1;
}

}  // namespace fabrique::features::expr

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_COLUMN_LOOPS_H_
