#include "libs/features/storage/value_columns.h"

namespace fabrique::features {

ColumnBuilder::ColumnBuilder(v1::FeatureType type, v1::ValueColumn* column)
    : type_(type), column_(column) {
  SetColumnType(type, column);
}

void ColumnBuilder::Reserve(int rows) {
  const int total = static_cast<int>(rows_) + rows;
  switch (type_) {
    case v1::FEATURE_TYPE_FLOAT:
      column_->mutable_float_values()->mutable_values()->Reserve(total);
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column_->mutable_double_values()->mutable_values()->Reserve(total);
      break;
    case v1::FEATURE_TYPE_INT64:
      column_->mutable_int64_values()->mutable_values()->Reserve(total);
      break;
    case v1::FEATURE_TYPE_BOOL:
      column_->mutable_bool_values()->mutable_values()->Reserve(total);
      break;
    case v1::FEATURE_TYPE_STRING:
      column_->mutable_string_values()->mutable_values()->Reserve(total);
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      column_->mutable_float_vector_values()->mutable_values()->Reserve(total);
      break;
    default:
      break;
  }
}

void ColumnBuilder::Append(const RowView& row, int index) {
  if (row.IsNull(index)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case v1::FEATURE_TYPE_FLOAT:
      column_->mutable_float_values()->add_values(row.Float(index));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column_->mutable_double_values()->add_values(row.Double(index));
      break;
    case v1::FEATURE_TYPE_INT64:
      column_->mutable_int64_values()->add_values(row.Int64(index));
      break;
    case v1::FEATURE_TYPE_BOOL:
      column_->mutable_bool_values()->add_values(row.Bool(index));
      break;
    case v1::FEATURE_TYPE_STRING: {
      const absl::string_view value = row.String(index);
      column_->mutable_string_values()->add_values()->assign(value.data(), value.size());
      break;
    }
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      auto* values = column_->mutable_float_vector_values()->add_values()->mutable_values();
      values->Resize(static_cast<int>(row.VectorSize(index)), 0.0f);
      row.CopyVector(index, values->mutable_data());
      break;
    }
    default:
      break;
  }
  if (has_nulls_) column_->add_is_null(false);
  ++rows_;
}

void ColumnBuilder::AppendFrom(const v1::ValueColumn& source, int index) {
  if (ColumnIsNull(source, index)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case v1::FEATURE_TYPE_FLOAT:
      column_->mutable_float_values()->add_values(source.float_values().values(index));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column_->mutable_double_values()->add_values(source.double_values().values(index));
      break;
    case v1::FEATURE_TYPE_INT64:
      column_->mutable_int64_values()->add_values(source.int64_values().values(index));
      break;
    case v1::FEATURE_TYPE_BOOL:
      column_->mutable_bool_values()->add_values(source.bool_values().values(index));
      break;
    case v1::FEATURE_TYPE_STRING:
      column_->mutable_string_values()->add_values(source.string_values().values(index));
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      *column_->mutable_float_vector_values()->add_values() =
          source.float_vector_values().values(index);
      break;
    default:
      break;
  }
  if (has_nulls_) column_->add_is_null(false);
  ++rows_;
}

void ColumnBuilder::AppendZero() {
  switch (type_) {
    case v1::FEATURE_TYPE_FLOAT:
      column_->mutable_float_values()->add_values(0.0f);
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      column_->mutable_double_values()->add_values(0.0);
      break;
    case v1::FEATURE_TYPE_INT64:
      column_->mutable_int64_values()->add_values(0);
      break;
    case v1::FEATURE_TYPE_BOOL:
      column_->mutable_bool_values()->add_values(false);
      break;
    case v1::FEATURE_TYPE_STRING:
      column_->mutable_string_values()->add_values();
      break;
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      column_->mutable_float_vector_values()->add_values();
      break;
    default:
      break;
  }
  if (has_nulls_) column_->add_is_null(false);
  ++rows_;
}

void ColumnBuilder::AppendNull() {
  AppendZero();
  MarkNull();
}

// Called right after the zero value was appended (and, if nulls came before, its false flag).
void ColumnBuilder::MarkNull() {
  if (!has_nulls_) {
    has_nulls_ = true;
    column_->mutable_is_null()->Reserve(static_cast<int>(rows_));
    for (int64_t i = 0; i + 1 < rows_; ++i) column_->add_is_null(false);
    column_->add_is_null(true);
    return;
  }
  column_->set_is_null(static_cast<int>(rows_ - 1), true);
}

void ColumnBuilder::Finish() {
  if (has_nulls_) {
    while (column_->is_null_size() < rows_) column_->add_is_null(false);
  }
}

}  // namespace fabrique::features
