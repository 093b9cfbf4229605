#include "libs/serving/oip_elements.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace fabrique::serving {
namespace {

// Raw contents are little-endian on the wire; copying them with memcpy is only right on a
// little-endian host, which every platform the server is built for is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "raw Open Inference Protocol contents are read with memcpy: little-endian only");

// Bytes per element of a fixed-size type (BYTES has none: 0).
size_t ElementSize(DataType type) {
  switch (type) {
    case DataType::kBool:
      return 1;
    case DataType::kInt32:
    case DataType::kFp32:
      return 4;
    case DataType::kInt64:
    case DataType::kFp64:
      return 8;
    case DataType::kBytes:
      break;
  }
  return 0;
}

// Copies `raw` (already checked to hold a whole number of elements) into `out`.
template <typename T>
void CopyRaw(absl::string_view raw, std::vector<T>* out) {
  out->resize(raw.size() / sizeof(T));
  if (!raw.empty()) std::memcpy(out->data(), raw.data(), raw.size());
}

template <typename T>
void AppendRaw(const std::vector<T>& elements, std::string* out) {
  out->append(reinterpret_cast<const char*>(elements.data()), elements.size() * sizeof(T));
}

// Parses length-prefixed BYTES elements; refuses as soon as `raw` cannot hold `count` of them.
absl::Status ReadRawBytes(absl::string_view raw, int64_t count, absl::string_view input,
                          std::vector<std::string>* out) {
  // Each element takes at least its 4-byte prefix, so this bounds the reservation by `raw`.
  out->reserve(static_cast<size_t>(std::min<int64_t>(count, raw.size() / 4)));
  size_t pos = 0;
  while (pos < raw.size()) {
    if (static_cast<int64_t>(out->size()) == count) break;
    if (raw.size() - pos < 4) break;
    uint32_t length = 0;
    std::memcpy(&length, raw.data() + pos, 4);
    pos += 4;
    if (raw.size() - pos < length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", input, "': raw BYTES element ", out->size(), " says ", length,
          " bytes but only ", raw.size() - pos,
          " remain; each element is a 4-byte little-endian length, then that many bytes"));
    }
    out->emplace_back(raw.substr(pos, length));
    pos += length;
  }
  if (pos != raw.size() || static_cast<int64_t>(out->size()) != count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", input, "': raw contents of ", raw.size(), " bytes do not hold exactly ", count,
        " length-prefixed BYTES elements (the shape's product); each element is a 4-byte "
        "little-endian length, then that many bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> CheckedElementCount(const std::vector<int64_t>& dims,
                                            absl::string_view what) {
  int64_t product = 1;
  for (int64_t dim : dims) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": dimension ", dim, " is negative; give every dimension as a count"));
    }
    if (__builtin_mul_overflow(product, dim, &product)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the shape's element count does not fit in 64 bits"));
    }
  }
  return product;
}

absl::string_view ContentsFieldName(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    case DataType::kFp32:
      break;
  }
  return "fp32_contents";
}

std::vector<std::pair<std::string, int64_t>> FilledContentsFields(
    const inference::InferTensorContents& contents) {
  const std::pair<const char*, int64_t> all[] = {
      {"bool_contents", contents.bool_contents_size()},
      {"int_contents", contents.int_contents_size()},
      {"int64_contents", contents.int64_contents_size()},
      {"uint_contents", contents.uint_contents_size()},
      {"uint64_contents", contents.uint64_contents_size()},
      {"fp32_contents", contents.fp32_contents_size()},
      {"fp64_contents", contents.fp64_contents_size()},
      {"bytes_contents", contents.bytes_contents_size()}};
  std::vector<std::pair<std::string, int64_t>> filled;
  for (const auto& [name, size] : all) {
    if (size > 0) filled.emplace_back(name, size);
  }
  return filled;
}

void ReadTypedContents(const inference::InferTensorContents& contents, Tensor* tensor) {
  switch (tensor->type) {
    case DataType::kBool:
      tensor->boolean.assign(contents.bool_contents().begin(), contents.bool_contents().end());
      return;
    case DataType::kInt32:
      tensor->int32.assign(contents.int_contents().begin(), contents.int_contents().end());
      return;
    case DataType::kInt64:
      tensor->int64.assign(contents.int64_contents().begin(), contents.int64_contents().end());
      return;
    case DataType::kFp32:
      tensor->fp32.assign(contents.fp32_contents().begin(), contents.fp32_contents().end());
      return;
    case DataType::kFp64:
      tensor->fp64.assign(contents.fp64_contents().begin(), contents.fp64_contents().end());
      return;
    case DataType::kBytes:
      tensor->bytes.assign(contents.bytes_contents().begin(), contents.bytes_contents().end());
      return;
  }
}

absl::Status ReadRawContents(absl::string_view raw, int64_t count, absl::string_view input,
                             Tensor* tensor) {
  if (tensor->type == DataType::kBytes) return ReadRawBytes(raw, count, input, &tensor->bytes);
  const size_t size = ElementSize(tensor->type);
  if (count > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(size) ||
      raw.size() != static_cast<size_t>(count) * size) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input, "': raw contents are ", raw.size(), " bytes; ", count, " ",
                     DataTypeName(tensor->type), " elements (the shape's product) take ", count,
                     " x ", size, " bytes"));
  }
  switch (tensor->type) {
    case DataType::kBool:
      // Any non-zero byte is true, as Triton reads raw BOOL; stored as 0 or 1.
      tensor->boolean.resize(raw.size());
      for (size_t i = 0; i < raw.size(); ++i) tensor->boolean[i] = raw[i] != 0 ? 1 : 0;
      break;
    case DataType::kInt32:
      CopyRaw(raw, &tensor->int32);
      break;
    case DataType::kInt64:
      CopyRaw(raw, &tensor->int64);
      break;
    case DataType::kFp32:
      CopyRaw(raw, &tensor->fp32);
      break;
    case DataType::kFp64:
      CopyRaw(raw, &tensor->fp64);
      break;
    case DataType::kBytes:
      break;
  }
  return absl::OkStatus();
}

void WriteTypedContents(const Tensor& tensor, inference::InferTensorContents* contents) {
  switch (tensor.type) {
    case DataType::kBool:
      contents->mutable_bool_contents()->Reserve(tensor.boolean.size());
      for (uint8_t value : tensor.boolean) contents->add_bool_contents(value != 0);
      return;
    case DataType::kInt32:
      contents->mutable_int_contents()->Add(tensor.int32.begin(), tensor.int32.end());
      return;
    case DataType::kInt64:
      contents->mutable_int64_contents()->Add(tensor.int64.begin(), tensor.int64.end());
      return;
    case DataType::kFp32:
      contents->mutable_fp32_contents()->Add(tensor.fp32.begin(), tensor.fp32.end());
      return;
    case DataType::kFp64:
      contents->mutable_fp64_contents()->Add(tensor.fp64.begin(), tensor.fp64.end());
      return;
    case DataType::kBytes:
      contents->mutable_bytes_contents()->Reserve(tensor.bytes.size());
      for (const std::string& value : tensor.bytes) contents->add_bytes_contents(value);
      return;
  }
}

std::string WriteRawContents(const Tensor& tensor) {
  std::string raw;
  switch (tensor.type) {
    case DataType::kBool:
      raw.reserve(tensor.boolean.size());
      for (uint8_t value : tensor.boolean) raw.push_back(value != 0 ? 1 : 0);
      break;
    case DataType::kInt32:
      AppendRaw(tensor.int32, &raw);
      break;
    case DataType::kInt64:
      AppendRaw(tensor.int64, &raw);
      break;
    case DataType::kFp32:
      AppendRaw(tensor.fp32, &raw);
      break;
    case DataType::kFp64:
      AppendRaw(tensor.fp64, &raw);
      break;
    case DataType::kBytes:
      for (const std::string& value : tensor.bytes) {
        const uint32_t length = static_cast<uint32_t>(value.size());
        raw.append(reinterpret_cast<const char*>(&length), 4);
        raw.append(value);
      }
      break;
  }
  return raw;
}

bool IsValidUtf8(absl::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t code = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1, code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2, code = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3, code = lead & 0x07;
    } else {
      return false;  // A continuation byte, an overlong two-byte lead, or past U+10FFFF.
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    if ((extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace fabrique::serving
