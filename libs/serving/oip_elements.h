#ifndef FABRIQUE_LIBS_SERVING_OIP_ELEMENTS_H_
#define FABRIQUE_LIBS_SERVING_OIP_ELEMENTS_H_

// The elements of one Open Inference Protocol tensor, moved between a Tensor and the two wire
// forms: typed `InferTensorContents` and raw little-endian bytes (BYTES raw: a 4-byte
// little-endian length, then the bytes, per element, as KServe and Triton define it). Used by the
// codec (oip_codec.h); every reader is bounded by the bytes it is given, never by a shape the
// caller claims, so an absurd shape cannot cause a huge allocation.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "inference/grpc_predict_v2.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// The product of `dims`, or INVALID_ARGUMENT naming `what` when a dimension is negative or the
// product does not fit in an int64.
absl::StatusOr<int64_t> CheckedElementCount(const std::vector<int64_t>& dims,
                                            absl::string_view what);

// The name of the InferTensorContents field that holds elements of `type` ("fp32_contents", ...).
absl::string_view ContentsFieldName(DataType type);

// The number of elements in every field of `contents`, keyed by field name, for the fields that
// hold any; used to say which field a client filled by mistake.
std::vector<std::pair<std::string, int64_t>> FilledContentsFields(
    const inference::InferTensorContents& contents);

// Copies the elements of `contents` for `tensor->type` into `tensor` (its vector of that type).
void ReadTypedContents(const inference::InferTensorContents& contents, Tensor* tensor);

// Parses `raw` as `count` elements of `tensor->type` into `tensor`. INVALID_ARGUMENT naming
// `input` when the length does not match `count` elements (or, for BYTES, the length prefixes do
// not add up to `raw`).
absl::Status ReadRawContents(absl::string_view raw, int64_t count, absl::string_view input,
                             Tensor* tensor);

// Writes the elements of `tensor` into the field of `contents` for its type.
void WriteTypedContents(const Tensor& tensor, inference::InferTensorContents* contents);

// Writes the elements of `tensor` as raw little-endian bytes (BYTES: length-prefixed).
std::string WriteRawContents(const Tensor& tensor);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF).
bool IsValidUtf8(absl::string_view text);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_OIP_ELEMENTS_H_
