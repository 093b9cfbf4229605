#include "libs/serving/model_metadata.h"

namespace fabrique::serving {
namespace {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

void CopySpec(const v1::TensorSpec& spec, TensorMetadata* out) {
  out->set_name(spec.name());
  out->set_datatype(spec.datatype());
  out->mutable_shape()->CopyFrom(spec.shape());
}

}  // namespace

inference::ModelMetadataResponse ModelMetadataFromSignature(
    absl::string_view model, const std::vector<std::string>& versions,
    const v1::ModelSignature& signature) {
  inference::ModelMetadataResponse response;
  response.set_name(std::string(model));
  for (const std::string& version : versions) response.add_versions(version);
  response.set_platform(std::string(kServedPlatform));
  for (const v1::TensorSpec& spec : signature.inputs()) CopySpec(spec, response.add_inputs());
  for (const v1::TensorSpec& spec : signature.outputs()) CopySpec(spec, response.add_outputs());
  return response;
}

}  // namespace fabrique::serving
