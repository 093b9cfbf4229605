#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CODEC_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CODEC_H_

// The binary encoding of one feature row, the value stored in both the history and the online
// family. Layout (integers little-endian, varints LEB128):
//
//   [0]       format tag, kRowFormatV1 (0x01)
//   [1..8]    event time, int64 microseconds since the Unix epoch. At a fixed offset so the
//             write path compares online rows (PeekEventTime) without decoding them.
//   varint32  schema version the row was written under
//   varint32  n, the number of features stored (the group's size at that version)
//   ceil(n/8) null bitmap: bit (i % 8) of byte (i / 8) set = feature i is null
//   values of the non-null features, in storage order, packed by type:
//               FLOAT 4 bytes, DOUBLE 8, INT64 8, BOOL 1,
//               STRING varint32 byte length + bytes,
//               FLOAT_VECTOR varint32 element count + 4 bytes per element
//
// Rows written under an older schema version hold fewer features: reading feature i >= n gives
// null, so a feature added later reads as MISSING for old rows. Rows written under a newer
// version than the reader's schema are read for the reader's features only. Twenty float
// features cost 11 + 3 + 80 = 94 bytes.
//
// Decoding (RowView) walks the row once to find each value's offset, into buffers it reuses, so
// reading numeric values allocates nothing.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/row_schema.h"

namespace fabrique::features {

#if !defined(ABSL_IS_LITTLE_ENDIAN)
#error "the row codec copies little-endian values with memcpy; port it for big-endian hosts"
#endif

inline constexpr uint8_t kRowFormatV1 = 0x01;
// Tag and event time: the bytes before the varints.
inline constexpr size_t kRowFixedHeaderBytes = 9;

// The event time of an encoded row without decoding the rest; DATA_LOSS when too short or of an
// unknown format.
absl::StatusOr<int64_t> PeekEventTime(absl::string_view encoded);

// The encodings of a batch's rows, made by RowBatchEncoder::EncodeAll, by batch row.
class EncodedRows {
 public:
  // The encoding of batch row `row` (empty for a row EncodeAll skipped).
  absl::string_view row(int row) const {
    if (stride_ != 0) return absl::string_view(fixed_.get() + row * stride_, stride_);
    return absl::string_view(bytes_.data() + offsets_[row], offsets_[row + 1] - offsets_[row]);
  }

 private:
  friend class RowBatchEncoder;
  // Rows of one size (the fast path): row r at fixed_ + r * stride_. Not zero-filled first.
  std::unique_ptr<char[]> fixed_;
  size_t stride_ = 0;
  // Rows of varying size: row r at bytes_[offsets_[r], offsets_[r + 1]).
  std::string bytes_;
  std::vector<size_t> offsets_;
};

// Encodes rows of a columnar RowBatch under one schema, one at a time or all at once.
class RowBatchEncoder {
 public:
  // Matches `batch`'s columns to `schema`'s features. Errors:
  //   NOT_FOUND         a column names a feature the group does not have (or another group)
  //   INVALID_ARGUMENT  a column of the wrong type, with a value count or is_null count other
  //                     than the row count, or named twice; entity keys and event times of
  //                     different lengths
  // `schema` and `batch` must outlive the encoder.
  static absl::StatusOr<RowBatchEncoder> Create(const RowSchema& schema, const v1::RowBatch& batch);

  int rows() const { return rows_; }
  // Replaces `out` with the encoding of row `row` (0 <= row < rows()). Reuse `out` across calls:
  // its capacity is kept.
  void EncodeRow(int row, std::string* out) const;
  // Encodes every row whose `skip` entry is 0 (every row when `skip` is empty), in row order, in
  // one pass over the columns. The write paths store rows in key order, which is a random order
  // of the batch: encoding each row there (EncodeRow) gathers every value from a random place of
  // its column, a cache miss per value once a batch outgrows the cache (bulk batches of 200k
  // rows spent a fifth of the server's time there); here each column is read sequentially.
  // Byte-identical to EncodeRow. The fast path encodes skipped rows too (they are not read).
  void EncodeAll(absl::Span<const uint8_t> skip, EncodedRows* out) const;

 private:
  RowBatchEncoder(const RowSchema& schema, const v1::RowBatch& batch)
      : schema_(&schema), batch_(&batch) {}
  absl::Status ResolveColumn(const v1::FeatureColumn& column);
  bool IsNull(int feature, int row) const;
  void AppendValue(int feature, int row, std::string* out) const;

  // Prepares the fast path when every feature is fixed-width and every value present.
  void PlanFixedRows();

  const RowSchema* schema_;
  const v1::RowBatch* batch_;
  int rows_ = 0;
  // columns_[i]: the batch's column for feature i, or null when the batch has none (all null).
  std::vector<const v1::ValueColumn*> columns_;

  // The fast path (the common case: numeric features without nulls): every row has the same
  // header (but its time) and the same size, and each value is one memcpy from its column.
  struct FixedColumn {
    const char* values;  // The column's packed values.
    size_t width;        // Bytes per value.
  };
  // The fast path's row `row` into `out` (fixed_header_.size() + fixed_row_bytes_ bytes).
  void EncodeFixedRow(int row, char* out) const;
  std::vector<FixedColumn> fixed_;  // Empty when the fast path does not apply.
  std::string fixed_header_;        // Tag, time placeholder, varints, zero null bitmap.
  size_t fixed_row_bytes_ = 0;
};

// A decoded view of one encoded row. Holds pointers into the encoded bytes, which must outlive
// the view's use (until the next Parse). Reuse one RowView per loop: Parse keeps its buffers.
class RowView {
 public:
  // Decodes `encoded` for `schema`'s features; DATA_LOSS when it is malformed or truncated.
  absl::Status Parse(absl::string_view encoded, const RowSchema& schema);

  int64_t event_time_micros() const { return event_time_micros_; }
  int32_t schema_version() const { return schema_version_; }
  // Number of features stored in the row (its schema's size when written).
  int stored_features() const { return stored_; }

  // True when feature `i` is null in the row or was added after the row was written.
  bool IsNull(int i) const { return i >= parsed_ || (bitmap_[i >> 3] >> (i & 7)) & 1; }
  // Typed reads; require !IsNull(i) and the feature's type.
  float Float(int i) const { return Load<float>(i); }
  double Double(int i) const { return Load<double>(i); }
  int64_t Int64(int i) const { return Load<int64_t>(i); }
  bool Bool(int i) const { return data_[offsets_[i]] != 0; }
  absl::string_view String(int i) const {
    return absl::string_view(data_ + offsets_[i], lengths_[i]);
  }
  // Number of elements of a FLOAT_VECTOR value, and a copy of them into `out`.
  uint32_t VectorSize(int i) const { return lengths_[i]; }
  void CopyVector(int i, float* out) const {
    if (lengths_[i] != 0) std::memcpy(out, data_ + offsets_[i], sizeof(float) * lengths_[i]);
  }
  // The raw value bytes (numbers little-endian, strings and vectors without their length).
  absl::string_view RawValue(int i) const;

 private:
  template <typename T>
  T Load(int i) const {
    T value;
    std::memcpy(&value, data_ + offsets_[i], sizeof(T));
    return value;
  }

  const char* data_ = nullptr;
  const uint8_t* bitmap_ = nullptr;
  int64_t event_time_micros_ = 0;
  int32_t schema_version_ = 0;
  int stored_ = 0;
  int parsed_ = 0;  // min(stored_, schema size): features readable through this view.
  const RowSchema* schema_ = nullptr;
  std::vector<uint32_t> offsets_;
  std::vector<uint32_t> lengths_;  // Bytes of a string, elements of a vector.
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CODEC_H_
