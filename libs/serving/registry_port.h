#ifndef FABRIQUE_LIBS_SERVING_REGISTRY_PORT_H_
#define FABRIQUE_LIBS_SERVING_REGISTRY_PORT_H_

// How serving reaches the model registry, keeping gRPC out of this library: the inference
// binary implements it with libs/client (services/inference/registry_client_port.h), tests with
// an in-memory fake.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::serving {

class RegistryPort {
 public:
  virtual ~RegistryPort() = default;

  // Opens the registry's watch with `request` and calls `on_event` for each event, in order,
  // until the stream ends, `on_event` returns an error (which is then returned), or Shutdown.
  // Returns the status the stream ended with: OUT_OF_RANGE when request.after_revision is older
  // than the registry keeps (resync from a snapshot), UNAVAILABLE when the registry cannot be
  // reached or the stream broke (reconnect), CANCELLED after Shutdown.
  virtual absl::Status Watch(
      const v1::WatchRequest& request,
      const std::function<absl::Status(const v1::WatchEvent&)>& on_event) = 0;

  // The model's record (owner squad, aliases). NOT_FOUND, UNAVAILABLE.
  virtual absl::StatusOr<v1::Model> GetModel(const std::string& name) = 0;
  // One version's record (signature, artifacts). NOT_FOUND, UNAVAILABLE.
  virtual absl::StatusOr<v1::ModelVersion> GetVersion(const v1::ModelVersionRef& ref) = 0;
  // The traffic policy of a model (the default policy when none was set). UNAVAILABLE.
  virtual absl::StatusOr<v1::TrafficPolicy> GetTrafficPolicy(const std::string& model) = 0;

  // Appends `evaluation` to the version `ref` as this server (e.g. the figures of a capacity
  // validation) and returns the version with every evaluation so far. NOT_FOUND,
  // PERMISSION_DENIED, INVALID_ARGUMENT (a metric without a name), UNAVAILABLE.
  virtual absl::StatusOr<v1::ModelVersion> AppendEvaluation(
      const v1::ModelVersionRef& ref, const v1::VersionEvaluation& evaluation) = 0;

  // Streams the artifact `sha256` from byte `offset` to `write`, chunk by chunk, in order.
  // NOT_FOUND, UNAVAILABLE (the caller resumes from what it has), or `write`'s error.
  virtual absl::Status Download(const std::string& sha256, int64_t offset,
                                const std::function<absl::Status(absl::string_view)>& write) = 0;

  // Ends an open Watch (it returns CANCELLED) and makes later calls return CANCELLED at once.
  virtual void Shutdown() = 0;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_REGISTRY_PORT_H_
