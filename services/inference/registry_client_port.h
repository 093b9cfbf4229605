#ifndef FABRIQUE_SERVICES_INFERENCE_REGISTRY_CLIENT_PORT_H_
#define FABRIQUE_SERVICES_INFERENCE_REGISTRY_CLIENT_PORT_H_

// Serving's registry port (libs/serving/registry_port.h) on the real registry, through
// libs/client, as the inference server's own identity (its client certificate, or plaintext
// under --insecure). One attempt per call: the follower and the artifact cache own the retries.
// The watch stream has no deadline of its own (it lives as long as the server), so Shutdown
// cancels it.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "libs/client/typed_clients.h"
#include "libs/serving/registry_port.h"

namespace fabrique::services {

struct RegistryClientPortOptions {
  std::shared_ptr<grpc::Channel> channel;           // Required: to the registry.
  std::string target;                               // host:port, for error messages.
  absl::Duration call_timeout = absl::Seconds(10);  // Of each unary call. Default 10 s.
  // Of one artifact download stream; a broken one is resumed by the cache. Default 10 min.
  absl::Duration download_timeout = absl::Minutes(10);
};

class RegistryClientPort final : public serving::RegistryPort {
 public:
  // INVALID_ARGUMENT without a channel.
  static absl::StatusOr<std::unique_ptr<RegistryClientPort>> Create(
      RegistryClientPortOptions options);

  absl::Status Watch(const v1::WatchRequest& request,
                     const std::function<absl::Status(const v1::WatchEvent&)>& on_event) override;
  absl::StatusOr<v1::Model> GetModel(const std::string& name) override;
  absl::StatusOr<v1::ModelVersion> GetVersion(const v1::ModelVersionRef& ref) override;
  absl::StatusOr<v1::TrafficPolicy> GetTrafficPolicy(const std::string& model) override;
  absl::StatusOr<v1::ModelVersion> AppendEvaluation(
      const v1::ModelVersionRef& ref, const v1::VersionEvaluation& evaluation) override;
  absl::Status Download(const std::string& sha256, int64_t offset,
                        const std::function<absl::Status(absl::string_view)>& write) override;
  void Shutdown() override;

 private:
  RegistryClientPort(RegistryClientPortOptions options, client::RegistryClient client);

  // A context for one call of `timeout` (infinite for the watch), registered so Shutdown can
  // cancel it; CANCELLED once shut down.
  absl::StatusOr<std::shared_ptr<grpc::ClientContext>> Open(absl::Duration timeout);
  void Close(const std::shared_ptr<grpc::ClientContext>& context);

  const RegistryClientPortOptions options_;
  const client::RegistryClient client_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::shared_ptr<grpc::ClientContext>> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_REGISTRY_CLIENT_PORT_H_
