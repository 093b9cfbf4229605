#include "services/inference/entity_predict_rows.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::services {

absl::StatusOr<serving::TensorBatch> GatherRows(const serving::TensorBatch& batch,
                                                const std::vector<int64_t>& rows) {
  // Runs of consecutive rows are sliced whole: a request routed to one version is one slice.
  std::vector<serving::TensorBatch> slices;
  for (size_t i = 0; i < rows.size();) {
    size_t end = i + 1;
    while (end < rows.size() && rows[end] == rows[end - 1] + 1) ++end;
    absl::StatusOr<serving::TensorBatch> slice =
        serving::SliceRows(batch, rows[i], static_cast<int64_t>(end - i));
    if (!slice.ok()) return slice.status();
    slices.push_back(*std::move(slice));
    i = end;
  }
  if (slices.size() == 1) return std::move(slices[0]);
  std::vector<const serving::TensorBatch*> parts;
  for (const serving::TensorBatch& slice : slices) parts.push_back(&slice);
  return serving::ConcatRows(parts);
}

absl::StatusOr<std::vector<int>> WantedOutputs(
    const v1::ModelSignature& signature,
    const google::protobuf::RepeatedPtrField<std::string>& wanted, const std::string& model) {
  std::vector<int> indexes;
  if (wanted.empty()) {
    for (int i = 0; i < signature.outputs_size(); ++i) indexes.push_back(i);
    return indexes;
  }
  for (const std::string& name : wanted) {
    int found = -1;
    for (int i = 0; i < signature.outputs_size() && found < 0; ++i) {
      if (signature.outputs(i).name() == name) found = i;
    }
    if (found < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "outputs: model '", model, "' has no output '", name, "'; its outputs: ",
          absl::StrJoin(signature.outputs(), ", ", [](std::string* out, const v1::TensorSpec& s) {
            absl::StrAppend(out, s.name());
          })));
    }
    indexes.push_back(found);
  }
  return indexes;
}

void FillRowOutput(const serving::Tensor& tensor, int64_t row, v1::ModelOutput& output) {
  if (output.name() != tensor.name) output.set_name(tensor.name);
  const int64_t width = tensor.ElementsPerRow();
  for (int64_t i = row * width; i < (row + 1) * width; ++i) {
    float value = 0;
    switch (tensor.type) {
      case serving::DataType::kFp32:
        value = tensor.fp32[i];
        break;
      case serving::DataType::kFp64:
        value = static_cast<float>(tensor.fp64[i]);
        break;
      case serving::DataType::kInt64:
        value = static_cast<float>(tensor.int64[i]);
        break;
      case serving::DataType::kInt32:
        value = static_cast<float>(tensor.int32[i]);
        break;
      case serving::DataType::kBool:
        value = tensor.boolean[i];
        break;
      case serving::DataType::kBytes:
        return;  // Text has no float form.
    }
    output.add_values(value);
  }
}

std::string InputsKey(const v1::ModelSignature& signature) {
  std::string key;
  for (const v1::TensorSpec& input : signature.inputs()) {
    // Deterministic within one process, which is all the key is compared in.
    const std::string bytes = input.SerializeAsString();
    absl::StrAppend(&key, bytes.size(), ":", bytes);
  }
  return key;
}

}  // namespace fabrique::services
