#include "libs/features/storage/row_codec.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/varint.h"
#include "libs/features/storage/value_columns.h"

namespace fabrique::features {
namespace {

template <typename T>
void AppendFixed(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

size_t FixedWidth(v1::FeatureType type) {
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      return 4;
    case v1::FEATURE_TYPE_DOUBLE:
    case v1::FEATURE_TYPE_INT64:
      return 8;
    case v1::FEATURE_TYPE_BOOL:
      return 1;
    default:
      return 0;  // Variable width.
  }
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt feature row: ", what));
}

}  // namespace

absl::StatusOr<int64_t> PeekEventTime(absl::string_view encoded) {
  if (encoded.size() < kRowFixedHeaderBytes || static_cast<uint8_t>(encoded[0]) != kRowFormatV1) {
    return Corrupt("bad header");
  }
  int64_t time;
  std::memcpy(&time, encoded.data() + 1, sizeof(time));
  return time;
}

absl::StatusOr<RowBatchEncoder> RowBatchEncoder::Create(const RowSchema& schema,
                                                        const v1::RowBatch& batch) {
  RowBatchEncoder encoder(schema, batch);
  if (batch.entity_keys_size() != batch.event_time_unix_micros_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("row batch has ", batch.entity_keys_size(), " entity keys but ",
                     batch.event_time_unix_micros_size(), " event times"));
  }
  encoder.rows_ = batch.entity_keys_size();
  encoder.columns_.assign(schema.size(), nullptr);
  for (const v1::FeatureColumn& column : batch.columns()) {
    absl::Status status = encoder.ResolveColumn(column);
    if (!status.ok()) return status;
  }
  encoder.PlanFixedRows();
  return encoder;
}

void RowBatchEncoder::PlanFixedRows() {
  std::vector<FixedColumn> fixed;
  size_t bytes = 0;
  for (int i = 0; i < schema_->size(); ++i) {
    const v1::ValueColumn* column = columns_[i];
    if (column == nullptr || column->is_null_size() != 0) return;
    FixedColumn plan{};
    switch (schema_->type(i)) {
      case v1::FEATURE_TYPE_FLOAT:
        plan = {reinterpret_cast<const char*>(column->float_values().values().data()), 4};
        break;
      case v1::FEATURE_TYPE_DOUBLE:
        plan = {reinterpret_cast<const char*>(column->double_values().values().data()), 8};
        break;
      case v1::FEATURE_TYPE_INT64:
        plan = {reinterpret_cast<const char*>(column->int64_values().values().data()), 8};
        break;
      case v1::FEATURE_TYPE_BOOL:  // Stored as one byte, 0 or 1, as the slow path writes it.
        static_assert(sizeof(bool) == 1);
        plan = {reinterpret_cast<const char*>(column->bool_values().values().data()), 1};
        break;
      default:
        return;  // Strings and vectors vary in size: the general path.
    }
    fixed.push_back(plan);
    bytes += plan.width;
  }
  std::string header;
  header.push_back(static_cast<char>(kRowFormatV1));
  AppendFixed(&header, int64_t{0});
  core::AppendVarint(&header, static_cast<uint32_t>(schema_->version()));
  core::AppendVarint(&header, static_cast<uint32_t>(schema_->size()));
  header.append((schema_->size() + 7) / 8, '\0');
  fixed_ = std::move(fixed);
  fixed_header_ = std::move(header);
  fixed_row_bytes_ = bytes;
}

absl::Status RowBatchEncoder::ResolveColumn(const v1::FeatureColumn& column) {
  const v1::FeatureRef& ref = column.feature();
  const std::string& group = schema_->group();
  if (!ref.group().empty() && ref.group() != group) {
    return absl::InvalidArgumentError(absl::StrCat("column '", ref.group(), ":", ref.feature(),
                                                   "' is not a feature of group '", group, "'"));
  }
  const int index = schema_->IndexOf(ref.feature());
  if (index < 0) {
    return absl::NotFoundError(absl::StrCat("feature '", group, ":", ref.feature(), "' not found"));
  }
  if (columns_[index] != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature '", group, ":", ref.feature(), "' has two columns in the batch"));
  }
  const v1::ValueColumn& values = column.values();
  // ValueColumn's list field numbers equal the FeatureType values they hold.
  const bool empty_untyped = rows_ == 0 && values.values_case() == v1::ValueColumn::VALUES_NOT_SET;
  if (!empty_untyped && static_cast<int>(values.values_case()) != schema_->type(index)) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", group, ":", ref.feature(), "' holds ",
                     values.values_case() == v1::ValueColumn::VALUES_NOT_SET
                         ? std::string("no values")
                         : v1::FeatureType_Name(static_cast<v1::FeatureType>(values.values_case())),
                     " but the feature is ", v1::FeatureType_Name(schema_->type(index))));
  }
  if (ColumnSize(values) != rows_ ||
      (values.is_null_size() != 0 && values.is_null_size() != rows_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", group, ":", ref.feature(), "' has ", ColumnSize(values),
                     " values and ", values.is_null_size(), " null flags for ", rows_, " rows"));
  }
  columns_[index] = &values;
  return absl::OkStatus();
}

bool RowBatchEncoder::IsNull(int feature, int row) const {
  const v1::ValueColumn* column = columns_[feature];
  return column == nullptr || (column->is_null_size() != 0 && column->is_null(row));
}

void RowBatchEncoder::AppendValue(int feature, int row, std::string* out) const {
  const v1::ValueColumn& column = *columns_[feature];
  switch (schema_->type(feature)) {
    case v1::FEATURE_TYPE_FLOAT:
      AppendFixed(out, column.float_values().values(row));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      AppendFixed(out, column.double_values().values(row));
      break;
    case v1::FEATURE_TYPE_INT64:
      AppendFixed(out, static_cast<int64_t>(column.int64_values().values(row)));
      break;
    case v1::FEATURE_TYPE_BOOL:
      out->push_back(column.bool_values().values(row) ? 1 : 0);
      break;
    case v1::FEATURE_TYPE_STRING: {
      const std::string& value = column.string_values().values(row);
      core::AppendVarint(out, static_cast<uint32_t>(value.size()));
      out->append(value);
      break;
    }
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      const auto& values = column.float_vector_values().values(row).values();
      core::AppendVarint(out, static_cast<uint32_t>(values.size()));
      out->append(reinterpret_cast<const char*>(values.data()), sizeof(float) * values.size());
      break;
    }
    default:
      break;  // RowSchema admits no other type.
  }
}

void RowBatchEncoder::EncodeFixedRow(int row, char* p) const {
  std::memcpy(p, fixed_header_.data(), fixed_header_.size());
  const int64_t time = batch_->event_time_unix_micros(row);
  std::memcpy(p + 1, &time, sizeof(time));
  p += fixed_header_.size();
  const size_t r = static_cast<size_t>(row);
  // Copies of a constant size compile to one move each; a copy of `width` bytes was a call.
  for (const FixedColumn& column : fixed_) {
    switch (column.width) {
      case 4:
        std::memcpy(p, column.values + r * 4, 4);
        break;
      case 8:
        std::memcpy(p, column.values + r * 8, 8);
        break;
      default:
        *p = column.values[r];
        break;
    }
    p += column.width;
  }
}

void RowBatchEncoder::EncodeAll(absl::Span<const uint8_t> skip, EncodedRows* out) const {
  if (!fixed_header_.empty()) {
    out->stride_ = fixed_header_.size() + fixed_row_bytes_;
    out->fixed_.reset(new char[std::max<size_t>(1, out->stride_ * rows_)]);
    out->bytes_.clear();
    out->offsets_.clear();
    for (int row = 0; row < rows_; ++row)
      EncodeFixedRow(row, out->fixed_.get() + row * out->stride_);
    return;
  }
  out->stride_ = 0;
  out->fixed_.reset();
  out->bytes_.clear();
  out->offsets_.assign(1, 0);
  out->offsets_.reserve(rows_ + 1);
  std::string value;
  for (int row = 0; row < rows_; ++row) {
    if (skip.empty() || skip[row] == 0) {
      EncodeRow(row, &value);
      out->bytes_.append(value);
    }
    out->offsets_.push_back(out->bytes_.size());
  }
}

void RowBatchEncoder::EncodeRow(int row, std::string* out) const {
  if (!fixed_header_.empty()) {
    out->resize(fixed_header_.size() + fixed_row_bytes_);
    EncodeFixedRow(row, out->data());
    return;
  }
  out->clear();
  out->push_back(static_cast<char>(kRowFormatV1));
  AppendFixed(out, static_cast<int64_t>(batch_->event_time_unix_micros(row)));
  const int n = schema_->size();
  core::AppendVarint(out, static_cast<uint32_t>(schema_->version()));
  core::AppendVarint(out, static_cast<uint32_t>(n));
  const size_t bitmap = out->size();
  out->append((n + 7) / 8, '\0');
  for (int i = 0; i < n; ++i) {
    if (IsNull(i, row)) {
      (*out)[bitmap + (i >> 3)] |= static_cast<char>(1 << (i & 7));
    } else {
      AppendValue(i, row, out);
    }
  }
}

absl::Status RowView::Parse(absl::string_view encoded, const RowSchema& schema) {
  if (encoded.size() < kRowFixedHeaderBytes || static_cast<uint8_t>(encoded[0]) != kRowFormatV1) {
    return Corrupt("bad header");
  }
  data_ = encoded.data();
  schema_ = &schema;
  std::memcpy(&event_time_micros_, data_ + 1, sizeof(event_time_micros_));
  size_t pos = kRowFixedHeaderBytes;
  uint32_t version = 0, stored = 0;
  if (!core::ReadVarint(encoded, &pos, &version) || !core::ReadVarint(encoded, &pos, &stored)) {
    return Corrupt("truncated header");
  }
  schema_version_ = static_cast<int32_t>(version);
  const size_t bitmap_bytes = (static_cast<size_t>(stored) + 7) / 8;
  if (encoded.size() - pos < bitmap_bytes) return Corrupt("truncated null bitmap");
  stored_ = static_cast<int>(stored);
  bitmap_ = reinterpret_cast<const uint8_t*>(data_ + pos);
  pos += bitmap_bytes;
  parsed_ = std::min(stored_, schema.size());
  if (offsets_.size() < static_cast<size_t>(parsed_)) {
    offsets_.resize(schema.size());
    lengths_.resize(schema.size());
  }
  for (int i = 0; i < parsed_; ++i) {
    if ((bitmap_[i >> 3] >> (i & 7)) & 1) continue;
    const v1::FeatureType type = schema.type(i);
    size_t width = FixedWidth(type);
    if (width == 0) {
      uint32_t length = 0;
      if (!core::ReadVarint(encoded, &pos, &length)) return Corrupt("truncated length");
      lengths_[i] = length;
      width = type == v1::FEATURE_TYPE_FLOAT_VECTOR ? sizeof(float) * size_t{length} : length;
    }
    if (encoded.size() - pos < width) return Corrupt("truncated value");
    offsets_[i] = static_cast<uint32_t>(pos);
    pos += width;
  }
  return absl::OkStatus();
}

absl::string_view RowView::RawValue(int i) const {
  const v1::FeatureType type = schema_->type(i);
  size_t width = FixedWidth(type);
  if (width == 0) {
    width =
        type == v1::FEATURE_TYPE_FLOAT_VECTOR ? sizeof(float) * size_t{lengths_[i]} : lengths_[i];
  }
  return absl::string_view(data_ + offsets_[i], width);
}

}  // namespace fabrique::features
