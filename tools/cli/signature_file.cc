#include "tools/cli/signature_file.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/cli/json_file.h"

namespace fabrique::cli {
namespace {

// The Open Inference Protocol's tensor datatypes.
const std::set<std::string>& Datatypes() {
  static const auto* const kDatatypes =
      new std::set<std::string>{"BOOL",  "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                "INT32", "INT64", "FP16",   "FP32",   "FP64",   "BF16", "BYTES"};
  return *kDatatypes;
}

absl::Status Invalid(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status CheckTensors(const google::protobuf::RepeatedPtrField<v1::TensorSpec>& tensors,
                          const std::string& side) {
  if (tensors.empty()) return Invalid(side, "at least one is required");
  std::set<std::string> names;
  for (int i = 0; i < tensors.size(); ++i) {
    const v1::TensorSpec& tensor = tensors[i];
    const std::string at = absl::StrCat(side, "[", i, "]");
    if (tensor.name().empty()) return Invalid(at + ".name", "is required");
    if (!names.insert(tensor.name()).second) {
      return Invalid(at + ".name", absl::StrCat("'", tensor.name(), "' is used twice"));
    }
    if (Datatypes().count(tensor.datatype()) == 0) {
      return Invalid(at + ".datatype", absl::StrCat("'", tensor.datatype(), "' is not one of ",
                                                    absl::StrJoin(Datatypes(), ", ")));
    }
    if (tensor.shape().empty()) {
      return Invalid(at + ".shape", "is required, e.g. [-1, 1] (-1: any size, the batch first)");
    }
    for (int d = 0; d < tensor.shape_size(); ++d) {
      if (tensor.shape(d) == -1 || tensor.shape(d) > 0) continue;
      return Invalid(absl::StrCat(at, ".shape[", d, "]"),
                     absl::StrCat(tensor.shape(d), " is neither -1 (any size) nor positive"));
    }
    if (side == "outputs" && tensor.nan_allowed()) {
      return Invalid(at + ".nan_allowed", "applies to inputs only");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSignature(const v1::ModelSignature& signature) {
  if (absl::Status inputs = CheckTensors(signature.inputs(), "inputs"); !inputs.ok()) {
    return inputs;
  }
  if (absl::Status outputs = CheckTensors(signature.outputs(), "outputs"); !outputs.ok()) {
    return outputs;
  }
  for (int i = 0; i < signature.class_labels_size(); ++i) {
    if (signature.class_labels(i).empty()) {
      return Invalid(absl::StrCat("class_labels[", i, "]"), "is empty");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ModelSignature> ReadSignatureFile(const std::string& path) {
  v1::ModelSignature signature;
  if (absl::Status read = ReadJsonFile(path, &signature); !read.ok()) return read;
  if (absl::Status checked = CheckSignature(signature); !checked.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature file ", path, ": ", checked.message()));
  }
  return signature;
}

}  // namespace fabrique::cli
