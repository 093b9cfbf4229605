#include "libs/monitoring/reference/reference_profiles.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/reference/profile_check.h"

namespace fabrique::monitoring {
namespace {

std::string VersionName(absl::string_view model, int64_t version) {
  return absl::StrCat(model, ":", version);
}

// A registry failure as the caller should read it: NOT_FOUND stays (the version does not
// exist), anything else means "ask again later".
absl::Status RegistryError(const absl::Status& status, absl::string_view what) {
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(what, ": ", status.message()));
  }
  return absl::UnavailableError(
      absl::StrCat(what, ": the registry could not be asked, retry later: ", status.message()));
}

void TakeMetrics(const v1::ModelVersion& version, v1::ReferenceProfile& profile) {
  if (profile.training_metrics_size() > 0) return;
  *profile.mutable_training_metrics() = version.metrics();
}

}  // namespace

absl::StatusOr<v1::ReferenceProfile> ReferenceProfiles::Put(v1::ReferenceProfile profile) {
  RETURN_IF_ERROR(CheckProfile(profile));
  const std::string name =
      VersionName(profile.model_version().model(), profile.model_version().version());
  absl::StatusOr<v1::ModelVersion> version =
      registry_->GetVersion(profile.model_version().model(), profile.model_version().version());
  if (absl::IsNotFound(version.status())) {
    return absl::NotFoundError(absl::StrCat(
        "model version ", name, " is not in the registry: ", version.status().message()));
  }
  if (version.ok()) TakeMetrics(*version, profile);
  RETURN_IF_ERROR(store_->Put(profile));
  return profile;
}

absl::StatusOr<v1::ReferenceProfile> ReferenceProfiles::Get(absl::string_view model,
                                                            int64_t version) {
  ASSIGN_OR_RETURN(std::optional<v1::ReferenceProfile> kept, store_->Get(model, version));
  if (kept.has_value()) return *std::move(kept);
  ASSIGN_OR_RETURN(v1::ReferenceProfile read, FromRegistry(model, version));
  RETURN_IF_ERROR(store_->Put(read));
  return read;
}

absl::StatusOr<std::optional<v1::ReferenceProfile>> ReferenceProfiles::Find(absl::string_view model,
                                                                            int64_t version) {
  absl::StatusOr<v1::ReferenceProfile> profile = Get(model, version);
  if (absl::IsNotFound(profile.status())) return std::nullopt;
  if (!profile.ok()) return profile.status();
  return *std::move(profile);
}

absl::StatusOr<v1::ModelVersion> ReferenceProfiles::Version(absl::string_view model,
                                                            int64_t version) {
  absl::StatusOr<v1::ModelVersion> read = registry_->GetVersion(model, version);
  if (!read.ok()) {
    return RegistryError(read.status(),
                         absl::StrCat("model version ", VersionName(model, version)));
  }
  return read;
}

absl::StatusOr<v1::ReferenceProfile> ReferenceProfiles::FromRegistry(absl::string_view model,
                                                                     int64_t version) {
  const std::string name = VersionName(model, version);
  ASSIGN_OR_RETURN(v1::ModelVersion registered, Version(model, version));
  const v1::VersionArtifact* artifact = nullptr;
  for (const v1::VersionArtifact& candidate : registered.artifacts()) {
    if (candidate.kind() == v1::ARTIFACT_KIND_REFERENCE_PROFILE) artifact = &candidate;
  }
  if (artifact == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "model version ", name,
        " has no reference profile: neither put on the monitor nor registered with the version"));
  }
  absl::StatusOr<std::string> bytes = registry_->ReadArtifact(artifact->artifact().sha256());
  if (!bytes.ok()) {
    return RegistryError(bytes.status(),
                         absl::StrCat("reference profile ", artifact->name(), " of ", name));
  }
  v1::ReferenceProfile profile;
  if (!profile.ParseFromString(*bytes)) {
    return absl::FailedPreconditionError(absl::StrCat("the reference profile ", artifact->name(),
                                                      " of ", name, " is not a ReferenceProfile"));
  }
  profile.mutable_model_version()->set_model(std::string(model));
  profile.mutable_model_version()->set_version(version);
  TakeMetrics(registered, profile);
  if (absl::Status checked = CheckProfile(profile); !checked.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("the reference profile ", artifact->name(),
                                                      " of ", name, ": ", checked.message()));
  }
  return profile;
}

}  // namespace fabrique::monitoring
