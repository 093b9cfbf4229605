#ifndef FABRIQUE_LIBS_FEATURES_EXPRESSIONS_EXPRESSION_H_
#define FABRIQUE_LIBS_FEATURES_EXPRESSIONS_EXPRESSION_H_

// Expression: the small, safe language of derived features and aggregation filters, compiled
// once (when a group is applied) and evaluated column by column over a batch of rows.
//
//   ratio = amount / max(items, 1)
//   clip(log1p(amount), 0, 10)      bucketize(age, [18, 30, 65])      length(lower(city))
//   coalesce(discount, 0) * 2       amount > 100 and not is_refund
//
// Values are INT64, DOUBLE (FLOAT inputs read as DOUBLE), BOOL or STRING. Any null operand gives
// null, except in coalesce. A division by zero, or log1p of a value at or below -1, gives null for
// that row and is counted in ExpressionWarnings, never an error. Nothing can loop, allocate without
// bound or reach outside the row.
//
// Thread-safe once compiled.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// Rows of one Evaluate call whose value came out null for a reason the caller should count.
struct ExpressionWarnings {
  int64_t division_by_zero = 0;
  int64_t domain = 0;  // log1p(x) with x <= -1 (-infinity at -1, undefined below).
};

class Expression {
 public:
  // Parses and type-checks `text` against the features it may read (name -> type). Errors are
  // INVALID_ARGUMENT naming the expression and the 1-based position, e.g.
  //   expression "amount / itms": position 10: unknown feature "itms"
  //   expression "lower(amount)": position 7: lower() takes a STRING, got DOUBLE
  static absl::StatusOr<std::unique_ptr<Expression>> Compile(
      absl::string_view text, const absl::flat_hash_map<std::string, v1::FeatureType>& inputs);

  virtual ~Expression() = default;

  // INT64, DOUBLE, BOOL or STRING.
  virtual v1::FeatureType result_type() const = 0;
  // The features it reads, each once, sorted.
  virtual const std::vector<std::string>& inputs() const = 0;
  virtual const std::string& text() const = 0;

  // Evaluates the expression for every row of `rows`. A feature is found in `rows.columns` by
  // name (FeatureColumn.feature.feature); one that is absent is null in every row. `out` is
  // cleared, then holds one value per row in the list of result_type(), with is_null set when
  // any row is null (empty otherwise). INVALID_ARGUMENT when a present column holds a list of
  // another type than the one compiled against, or has the wrong number of values.
  virtual absl::Status Evaluate(const v1::RowBatch& rows, v1::ValueColumn* out,
                                ExpressionWarnings* warnings) const = 0;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_EXPRESSIONS_EXPRESSION_H_
