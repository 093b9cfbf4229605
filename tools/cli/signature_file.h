#ifndef FABRIQUE_TOOLS_CLI_SIGNATURE_FILE_H_
#define FABRIQUE_TOOLS_CLI_SIGNATURE_FILE_H_

// A model's signature as its author writes it for `fabrique models register`:
//
//   {"inputs":  [{"name": "amount", "datatype": "FP32", "shape": [-1, 1], "nan_allowed": true}],
//    "outputs": [{"name": "probability", "datatype": "FP32", "shape": [-1, 1]}],
//    "class_labels": ["legit", "fraud"]}
//
// read as a ModelSignature and checked the way inference will use it, so that a mistake is found
// before the version exists rather than when a server fails to load it.

#include <string>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::cli {

// INVALID_ARGUMENT naming the field (e.g. "inputs[1].datatype") for anything inference could not
// serve: no input or no output, a tensor without name, a name used twice on one side, a datatype
// that is not an Open Inference Protocol one, an empty shape or a dimension that is neither -1 nor
// positive, nan_allowed on an output, or (with class labels) an empty label.
absl::Status CheckSignature(const v1::ModelSignature& signature);

// Reads and checks the file at `path`; INVALID_ARGUMENT naming the file and the field for a file
// that cannot be read, is not JSON, has an unknown field or fails CheckSignature.
absl::StatusOr<v1::ModelSignature> ReadSignatureFile(const std::string& path);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_SIGNATURE_FILE_H_
