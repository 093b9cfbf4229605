#ifndef FABRIQUE_LIBS_FEATURES_COLUMNS_VALUE_COLUMN_H_
#define FABRIQUE_LIBS_FEATURES_COLUMNS_VALUE_COLUMN_H_

// Small facts about the columnar ValueColumn proto, shared by the catalog's validator, the
// storage engine and the CLI so that none of them keeps its own copy of the type switch.

#include "fabrique/v1/common.pb.h"

namespace fabrique::features {

// The type of the list a column carries (UNSPECIFIED when none is set). ValueColumn's list
// field numbers equal the FeatureType values they hold.
inline v1::FeatureType ColumnType(const v1::ValueColumn& column) {
  return static_cast<v1::FeatureType>(column.values_case());
}

// Number of entries in the column's list (0 when none is set).
int ColumnSize(const v1::ValueColumn& column);

// Selects the list of `type` in `column`, so even an empty column says its type.
// UNSPECIFIED leaves the column without a list.
void SetColumnType(v1::FeatureType type, v1::ValueColumn* column);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_COLUMNS_VALUE_COLUMN_H_
