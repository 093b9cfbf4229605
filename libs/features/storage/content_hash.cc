#include "libs/features/storage/content_hash.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "libs/features/storage/value_columns.h"
#include "openssl/evp.h"

namespace fabrique::features {
namespace {

constexpr size_t kSpillBytes = size_t{64} << 10;

template <typename T>
void AppendFixed(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

}  // namespace

struct ContentHasher::Context {
  EVP_MD_CTX* md = nullptr;
};

ContentHasher::ContentHasher() : context_(new Context) {
  context_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr);
  buffer_.reserve(kSpillBytes + 4096);
}

ContentHasher::~ContentHasher() { EVP_MD_CTX_free(context_->md); }

void ContentHasher::Spill() {
  EVP_DigestUpdate(context_->md, buffer_.data(), buffer_.size());
  buffer_.clear();
}

void ContentHasher::AddInt64(int64_t value) {
  AppendFixed(&buffer_, value);
  if (buffer_.size() >= kSpillBytes) Spill();
}

void ContentHasher::AddBytes(absl::string_view bytes) {
  AppendFixed(&buffer_, static_cast<uint32_t>(bytes.size()));
  buffer_.append(bytes.data(), bytes.size());
  if (buffer_.size() >= kSpillBytes) Spill();
}

void ContentHasher::AddValue(const RowView& row, int index, v1::FeatureType type) {
  if (row.IsNull(index)) {
    AddNull();
    return;
  }
  buffer_.push_back('\0');
  const absl::string_view raw = row.RawValue(index);
  if (type == v1::FEATURE_TYPE_STRING) {
    AppendFixed(&buffer_, static_cast<uint32_t>(raw.size()));
  } else if (type == v1::FEATURE_TYPE_FLOAT_VECTOR) {
    AppendFixed(&buffer_, static_cast<uint32_t>(row.VectorSize(index)));
  }
  buffer_.append(raw.data(), raw.size());
  if (buffer_.size() >= kSpillBytes) Spill();
}

void ContentHasher::AddValue(const v1::ValueColumn& column, int index, v1::FeatureType type) {
  if (type == v1::FEATURE_TYPE_UNSPECIFIED || ColumnIsNull(column, index)) {
    AddNull();
    return;
  }
  buffer_.push_back('\0');
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      AppendFixed(&buffer_, column.float_values().values(index));
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      AppendFixed(&buffer_, column.double_values().values(index));
      break;
    case v1::FEATURE_TYPE_INT64:
      AppendFixed(&buffer_, static_cast<int64_t>(column.int64_values().values(index)));
      break;
    case v1::FEATURE_TYPE_BOOL:
      buffer_.push_back(column.bool_values().values(index) ? 1 : 0);
      break;
    case v1::FEATURE_TYPE_STRING: {
      const std::string& value = column.string_values().values(index);
      AppendFixed(&buffer_, static_cast<uint32_t>(value.size()));
      buffer_.append(value);
      break;
    }
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      const auto& values = column.float_vector_values().values(index).values();
      AppendFixed(&buffer_, static_cast<uint32_t>(values.size()));
      buffer_.append(reinterpret_cast<const char*>(values.data()), sizeof(float) * values.size());
      break;
    }
    default:
      break;
  }
  if (buffer_.size() >= kSpillBytes) Spill();
}

std::string ContentHasher::HexDigest() {
  Spill();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->md, digest, &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace fabrique::features
