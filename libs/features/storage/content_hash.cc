#include "libs/features/storage/content_hash.h"

#include "libs/features/storage/value_columns.h"

namespace fabrique::features {

ContentHasher::ContentHasher() : buffer_(new char[kSpillBytes + kSlack]) {}

void ContentHasher::Spill() {
  hash_.Update(absl::string_view(buffer_.get(), used_));
  used_ = 0;
}

// Variable-length bytes: buffered while they fit, else hashed in place.
void ContentHasher::Append(const void* bytes, size_t size) {
  if (used_ + size > kSpillBytes) {
    Spill();
    if (size > kSpillBytes) {
      hash_.Update(absl::string_view(static_cast<const char*>(bytes), size));
      return;
    }
  }
  if (size != 0) std::memcpy(buffer_.get() + used_, bytes, size);
  used_ += size;
  MaybeSpill();
}

void ContentHasher::AddBytes(absl::string_view bytes) {
  Put(static_cast<uint32_t>(bytes.size()));
  Append(bytes.data(), bytes.size());
}

void ContentHasher::AddValue(const RowView& row, int index, v1::FeatureType type) {
  if (row.IsNull(index)) {
    AddNull();
    return;
  }
  buffer_[used_++] = '\0';
  const absl::string_view raw = row.RawValue(index);
  if (type == v1::FEATURE_TYPE_STRING) {
    Put(static_cast<uint32_t>(raw.size()));
  } else if (type == v1::FEATURE_TYPE_FLOAT_VECTOR) {
    Put(static_cast<uint32_t>(row.VectorSize(index)));
  }
  Append(raw.data(), raw.size());
}

void ContentHasher::AddValue(const v1::ValueColumn& column, int index, v1::FeatureType type) {
  if (type == v1::FEATURE_TYPE_UNSPECIFIED || ColumnIsNull(column, index)) {
    AddNull();
    return;
  }
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      AddPresent(column.float_values().values(index));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      AddPresent(column.double_values().values(index));
      break;
    case v1::FEATURE_TYPE_INT64:
      AddPresent(static_cast<int64_t>(column.int64_values().values(index)));
      break;
    case v1::FEATURE_TYPE_BOOL:
      AddPresent(static_cast<uint8_t>(column.bool_values().values(index) ? 1 : 0));
      break;
    case v1::FEATURE_TYPE_STRING: {
      const std::string& value = column.string_values().values(index);
      buffer_[used_++] = '\0';
      AddBytes(value);
      break;
    }
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      const auto& values = column.float_vector_values().values(index).values();
      buffer_[used_++] = '\0';
      Put(static_cast<uint32_t>(values.size()));
      Append(values.data(), sizeof(float) * values.size());
      break;
    }
    default:
      // A type this hasher does not know: the flag byte alone, as before.
      buffer_[used_++] = '\0';
      MaybeSpill();
      break;
  }
}

std::string ContentHasher::HexDigest() {
  Spill();
  return hash_.HexDigest();
}

}  // namespace fabrique::features
