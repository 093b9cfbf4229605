#ifndef FABRIQUE_SERVICES_MONITOR_REGISTRY_VERSIONS_H_
#define FABRIQUE_SERVICES_MONITOR_REGISTRY_VERSIONS_H_

// The registry as the monitor's reports read it (monitoring::VersionRegistry), through
// libs/client's typed registry client as the monitor's own identity: a version's record
// (GetVersion), the content of its reference profile artifact (DownloadArtifact, streamed and
// capped), and the version behind an alias. The registry's NOT_FOUND stays NOT_FOUND; any other
// failure is the registry's own error, which the reports read as "retry later".

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/client/typed_clients.h"
#include "libs/monitoring/reference/reference_profiles.h"

namespace fabrique::services {

struct RegistryVersionsOptions {
  // Deadline of one artifact download. Default 30 s.
  absl::Duration download_timeout = absl::Seconds(30);
  // Largest artifact read, in bytes; a larger one is refused (FAILED_PRECONDITION), since a
  // profile is a few hundred kilobytes. Default 64 MiB.
  int64_t max_artifact_bytes = int64_t{64} << 20;
};

class RegistryVersions final : public monitoring::VersionRegistry {
 public:
  RegistryVersions(client::RegistryClient registry, RegistryVersionsOptions options = {});

  absl::StatusOr<v1::ModelVersion> GetVersion(absl::string_view model, int64_t version) override;
  absl::StatusOr<std::string> ReadArtifact(const std::string& sha256) override;

  // The version `alias` of `model` names now; NOT_FOUND when the model or the alias does not
  // exist.
  absl::StatusOr<int64_t> AliasVersion(const std::string& model, const std::string& alias);

 private:
  const client::RegistryClient registry_;
  const RegistryVersionsOptions options_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_REGISTRY_VERSIONS_H_
