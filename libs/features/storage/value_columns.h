#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_VALUE_COLUMNS_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_VALUE_COLUMNS_H_

// Building the columnar ValueColumn protos of read results (online lookups, history chunks,
// training-set rows) one value at a time, straight from decoded rows.

#include <cstdint>

#include "fabrique/v1/features.pb.h"
#include "libs/features/columns/value_column.h"
#include "libs/features/storage/row_codec.h"

namespace fabrique::features {

// Appends typed values to one ValueColumn. The column's list is set to `type` on construction,
// so even an empty column says its type. Nulls hold the type's zero value and are flagged in
// is_null, which stays empty until the first null (as the proto asks) and is padded by Finish().
class ColumnBuilder {
 public:
  // `column` must outlive the builder. UNSPECIFIED leaves the column without a list (all rows
  // must then be nulls).
  ColumnBuilder(v1::FeatureType type, v1::ValueColumn* column);

  // Reserves room for `rows` more values.
  void Reserve(int rows);
  // Appends feature `index` of `row`: its value, or a null when the row has none.
  void Append(const RowView& row, int index);
  // Appends row `index` of `source` (a column of the same type), nulls included.
  void AppendFrom(const v1::ValueColumn& source, int index);
  // Appends a null: the zero value, flagged in is_null.
  void AppendNull();
  // Appends the zero value without flagging it (online lookups say why through a status).
  void AppendZero();
  // Pads is_null to the row count when any null was appended. Call once, after the last value.
  void Finish();

  int64_t rows() const { return rows_; }
  v1::FeatureType type() const { return type_; }

 private:
  void MarkNull();

  v1::FeatureType type_;
  v1::ValueColumn* column_;
  int64_t rows_ = 0;
  bool has_nulls_ = false;
};

// Whether row `index` of `column` is null.
inline bool ColumnIsNull(const v1::ValueColumn& column, int index) {
  return column.is_null_size() != 0 && column.is_null(index);
}

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_VALUE_COLUMNS_H_
