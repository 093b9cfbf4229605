#ifndef FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_PROFILES_H_
#define FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_PROFILES_H_

// The reference profile of a model version, as the monitor finds it: kept in the reference store
// when it was put or read before; otherwise read once from the registry, where the trainer
// registers it as the version's REFERENCE_PROFILE artifact (reference_profile.pb), with the
// version's metrics as its training_metrics, and kept. A registry that does not answer is
// UNAVAILABLE for that call (retry later), never remembered as "no profile".
//
//   ReferenceProfiles profiles(store.get(), &registry_port);
//   ASSIGN_OR_RETURN(std::optional<v1::ReferenceProfile> profile, profiles.Find("fraud", 3));

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/monitoring/reference/reference_store.h"

namespace fabrique::monitoring {

// The registry as reference profiles read it. Implemented over libs/client by the monitor's
// service, and by fakes in tests.
class VersionRegistry {
 public:
  virtual ~VersionRegistry() = default;
  // The version: NOT_FOUND when the registry has no such model or version; any other error
  // means it could not answer.
  virtual absl::StatusOr<v1::ModelVersion> GetVersion(absl::string_view model, int64_t version) = 0;
  // The content of the artifact with this SHA-256; errors as GetVersion.
  virtual absl::StatusOr<std::string> ReadArtifact(const std::string& sha256) = 0;
};

class ReferenceProfiles {
 public:
  // Neither is owned; both must outlive this.
  ReferenceProfiles(ReferenceStore* store, VersionRegistry* registry)
      : store_(store), registry_(registry) {}

  // Stores `profile`, replacing any, and returns it as kept: with the version's registered
  // metrics as training_metrics when it carries none. INVALID_ARGUMENT for a profile that fails
  // CheckProfile; NOT_FOUND when the registry says the version does not exist. While the
  // registry cannot be asked the profile is kept as it is: an explicit profile is how a version
  // is watched when the registry is away.
  absl::StatusOr<v1::ReferenceProfile> Put(v1::ReferenceProfile profile);

  // The profile of `model` `version`: kept, or read from the registry and kept. NOT_FOUND when
  // neither has one (or the registry has no such version); UNAVAILABLE when the registry could
  // not be asked; FAILED_PRECONDITION when the version's artifact is not a readable profile.
  absl::StatusOr<v1::ReferenceProfile> Get(absl::string_view model, int64_t version);

  // Get for reports: nullopt when there is no profile (NOT_FOUND above); the other errors pass.
  absl::StatusOr<std::optional<v1::ReferenceProfile>> Find(absl::string_view model,
                                                           int64_t version);

  // The profile kept for `model` `version`, without asking the registry; nullopt when none.
  absl::StatusOr<std::optional<v1::ReferenceProfile>> Kept(absl::string_view model,
                                                           int64_t version) const {
    return store_->Get(model, version);
  }

  // The registry's record of the version (its signature, its metrics); errors as GetVersion.
  absl::StatusOr<v1::ModelVersion> Version(absl::string_view model, int64_t version);

 private:
  // Reads the version's profile artifact from the registry; NOT_FOUND when it has none.
  absl::StatusOr<v1::ReferenceProfile> FromRegistry(absl::string_view model, int64_t version);

  ReferenceStore* const store_;
  VersionRegistry* const registry_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_PROFILES_H_
