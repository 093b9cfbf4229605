#ifndef FABRIQUE_SERVICES_TOWER_REGISTRY_PORT_H_
#define FABRIQUE_SERVICES_TOWER_REGISTRY_PORT_H_

// The tower's way to the model registry (tower::RegistryPort) over libs/client's RegistryClient:
// - SetAlias and SetCanary close the retraining loop for the job's submitter (on-behalf-of), so
//   the registry's own rules (who may move which alias, its gates) decide as for that user; a
//   "service:..." submitter is no user, and the tower then acts as itself;
// - SetCanary reads the model's traffic policy and writes it back with only the candidate alias
//   and canary share changed, so a primary alias, routing or shadow set by hand is kept;
// - RequestPromotion asks for the alias through its promotion policy, keyed by model, alias and
//   version, so a retry answers with the request the first call stored;
// - ModelsOf lists the use case's models (every page) and reads each one's production alias, as
//   the tower itself.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/tower/ports.h"

namespace fabrique::services {

struct RemoteRegistryPortOptions {
  std::shared_ptr<grpc::Channel> registry;          // Required: a channel to fabrique-registry.
  std::string registry_target;                      // host:port, for error messages.
  absl::Duration call_timeout = absl::Seconds(30);  // Per call. Default 30 s.
  // The alias ModelsOf reads as what is in production. Default "production".
  std::string production_alias = "production";
};

class RemoteRegistryPort : public tower::RegistryPort {
 public:
  // INVALID_ARGUMENT without a channel.
  static absl::StatusOr<std::unique_ptr<RemoteRegistryPort>> Create(
      RemoteRegistryPortOptions options);

  // The registry's errors: NOT_FOUND for an unknown model or version, FAILED_PRECONDITION when a
  // gate refuses the alias, PERMISSION_DENIED when the submitter may not move it.
  absl::Status SetAlias(absl::string_view model, absl::string_view alias, int64_t version,
                        absl::string_view reason, const v1::Principal& on_behalf_of) override;
  // INVALID_ARGUMENT for a share outside [0, 100].
  absl::Status SetCanary(absl::string_view model, absl::string_view candidate_alias, double percent,
                         const v1::Principal& on_behalf_of) override;
  // FAILED_PRECONDITION when an automatic gate refuses it, or the alias holds the version already.
  absl::StatusOr<v1::PromotionRequest> RequestPromotion(absl::string_view model,
                                                        absl::string_view alias, int64_t version,
                                                        absl::string_view reason,
                                                        const v1::Principal& on_behalf_of) override;
  absl::StatusOr<std::vector<v1::PortfolioModel>> ModelsOf(absl::string_view use_case_id) override;

 private:
  explicit RemoteRegistryPort(RemoteRegistryPortOptions options) : options_(std::move(options)) {}
  // A client acting for `user`, or as the tower when null or a service.
  client::RegistryClient ClientFor(const v1::Principal* user) const;

  const RemoteRegistryPortOptions options_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_REGISTRY_PORT_H_
