#ifndef FABRIQUE_LIBS_SERVING_MODEL_METADATA_H_
#define FABRIQUE_LIBS_SERVING_MODEL_METADATA_H_

// What the Open Inference Protocol's ModelMetadata answers for a served model: its name, the
// versions served, the platform, and its inputs and outputs as its signature declares them.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "inference/grpc_predict_v2.pb.h"

namespace fabrique::serving {

// The platform every served model reports: the server runs TorchScript modules.
inline constexpr absl::string_view kServedPlatform = "pytorch_torchscript";

// The metadata of `model`: `versions` as given (e.g. {"3", "4"}), platform kServedPlatform, and
// each signature input and output with its name, datatype and shape (-1 kept for a dimension of
// any size, the batch dimension first).
inference::ModelMetadataResponse ModelMetadataFromSignature(
    absl::string_view model, const std::vector<std::string>& versions,
    const v1::ModelSignature& signature);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MODEL_METADATA_H_
