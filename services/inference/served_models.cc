#include "services/inference/served_models.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "libs/serving/model_metadata.h"

namespace fabrique::services {
namespace {

v1::ServedVersionState StateProto(serving::VersionState state) {
  switch (state) {
    case serving::VersionState::kLoading:
      return v1::SERVED_VERSION_STATE_LOADING;
    case serving::VersionState::kReady:
      return v1::SERVED_VERSION_STATE_READY;
    case serving::VersionState::kFailed:
      return v1::SERVED_VERSION_STATE_FAILED;
    case serving::VersionState::kUnloading:
      return v1::SERVED_VERSION_STATE_UNLOADING;
  }
  return v1::SERVED_VERSION_STATE_UNSPECIFIED;
}

v1::ServedVersion VersionProto(const serving::ServedVersionStatus& status) {
  v1::ServedVersion version;
  version.set_version(status.version);
  for (const std::string& alias : status.aliases) version.add_aliases(alias);
  version.set_state(StateProto(status.state));
  version.set_failure_reason(status.failure_reason);
  if (status.load_time != absl::InfinitePast()) {
    *version.mutable_load_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(status.load_time));
  }
  version.set_device(status.device);
  version.set_module_sha256(status.module_sha256);
  return version;
}

// The version whose signature describes the model: the primary, else the newest held.
int64_t DescribingVersion(const serving::ServedModelStatus& model) {
  if (model.primary_version > 0) return model.primary_version;
  return model.versions.empty() ? 0 : model.versions.back().version;
}

}  // namespace

absl::StatusOr<int64_t> ParseModelVersion(absl::string_view text, absl::string_view field) {
  if (text.empty()) return 0;
  int64_t version = 0;
  if (!absl::SimpleAtoi(text, &version) || version <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", text, "' is not a version number: give 1, 2, ... or \"\" for the policy"));
  }
  return version;
}

absl::StatusOr<const serving::ServedModelStatus*> FindServedModel(
    const std::vector<serving::ServedModelStatus>& models, absl::string_view model) {
  std::vector<std::string> names;
  for (const serving::ServedModelStatus& status : models) {
    if (status.model == model) return &status;
    names.push_back(status.model);
  }
  return absl::NotFoundError(absl::StrCat(
      "model '", model,
      "' is not served here (served: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
}

std::vector<std::string> ReadyVersions(const serving::ServedModelStatus& model) {
  std::vector<std::string> versions;
  for (const serving::ServedVersionStatus& version : model.versions) {
    if (version.state == serving::VersionState::kReady) {
      versions.push_back(absl::StrCat(version.version));
    }
  }
  return versions;
}

v1::ServedModel ServedModelProto(const ServingView& serving,
                                 const serving::ServedModelStatus& model) {
  v1::ServedModel proto;
  proto.set_name(model.model);
  for (const serving::ServedVersionStatus& version : model.versions) {
    *proto.add_versions() = VersionProto(version);
  }
  *proto.mutable_traffic_policy() = model.policy;
  proto.set_primary_version(model.primary_version);
  proto.set_candidate_version(model.candidate_version);
  const int64_t describing = DescribingVersion(model);
  if (describing > 0) {
    absl::StatusOr<serving::Route> route =
        serving.models().Resolve(model.model, describing, "", "");
    if (route.ok()) {
      *proto.mutable_metadata() = serving::ModelMetadataFromSignature(
          model.model, ReadyVersions(model), route->version->record().signature());
    }
  }
  return proto;
}

v1::ListServedModelsResponse ListServedModels(const ServingView& serving,
                                              const server::Caller& caller) {
  v1::ListServedModelsResponse response;
  for (const serving::ServedModelStatus& model : serving.models().Status()) {
    absl::StatusOr<std::string> owner = serving.OwnerOf(model.model);
    if (!owner.ok() || !caller.Sees(*owner)) continue;
    *response.add_models() = ServedModelProto(serving, model);
  }
  response.set_registry_revision(serving.RegistryRevision());
  response.set_registry_connected(serving.RegistryConnected());
  return response;
}

absl::StatusOr<v1::ServedModel> GetServedModel(const ServingView& serving, absl::string_view name) {
  const std::vector<serving::ServedModelStatus> models = serving.models().Status();
  absl::StatusOr<const serving::ServedModelStatus*> model = FindServedModel(models, name);
  if (!model.ok()) return model.status();
  return ServedModelProto(serving, **model);
}

}  // namespace fabrique::services
