#include "libs/features/columns/value_column.h"

namespace fabrique::features {

int ColumnSize(const v1::ValueColumn& column) {
  switch (column.values_case()) {
    case v1::ValueColumn::kFloatValues:
      return column.float_values().values_size();
    case v1::ValueColumn::kDoubleValues:
      return column.double_values().values_size();
    case v1::ValueColumn::kInt64Values:
      return column.int64_values().values_size();
    case v1::ValueColumn::kBoolValues:
      return column.bool_values().values_size();
    case v1::ValueColumn::kStringValues:
      return column.string_values().values_size();
    case v1::ValueColumn::kFloatVectorValues:
      return column.float_vector_values().values_size();
    case v1::ValueColumn::VALUES_NOT_SET:
      break;
  }
  return 0;
}

void SetColumnType(v1::FeatureType type, v1::ValueColumn* column) {
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      column->mutable_float_values();
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column->mutable_double_values();
      break;
    case v1::FEATURE_TYPE_INT64:
      column->mutable_int64_values();
      break;
    case v1::FEATURE_TYPE_BOOL:
      column->mutable_bool_values();
      break;
    case v1::FEATURE_TYPE_STRING:
      column->mutable_string_values();
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      column->mutable_float_vector_values();
      break;
    default:
      break;
  }
}

}  // namespace fabrique::features
