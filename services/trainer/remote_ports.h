#ifndef FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_
#define FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_

// The trainer's ports (libs/training/ports.h) on the real services: the feature store's
// GetFeatureGroup, point-in-time BuildTrainingSet and RecordDatasetUsage, and the registry's
// CreateModel, UploadArtifact and RegisterVersion. Calls a dependency answers UNAVAILABLE (or
// does not answer in time) are retried with backoff until `retry_for` has passed or the run's
// deadline comes; the last error then fails the run. Each attempt's own timeout (30 s; 30 min
// for an upload, 6 h for a training set) ends no later than that deadline either, so a
// submission's feature check fits in its caller's time. A cancel of the run ends a stream not yet
// answered, and the wait between retries, at once.
//
// The calls go out under the trainer's own client certificate (the channel's). Those made for a
// run (the feature check, the training set, the model, its artifacts and version) also carry
// the submitter as on-behalf-of, user and groups: the peers check both, and the registry's audit
// names who asked and through which service. Recording a dataset's usage is the trainer's own
// word on lineage.
//
// Everything about a run arrives with each call (RunContext): one port serves any number of runs
// at once.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "grpcpp/channel.h"
#include "libs/core/clock.h"
#include "libs/training/ports.h"

namespace fabrique::services {

struct RemotePortOptions {
  std::shared_ptr<grpc::Channel> channel;  // Required: to the feature store, or the registry.
  // How long a call answered UNAVAILABLE or DEADLINE_EXCEEDED is retried (backoff 0.2 s,
  // doubling, at most 5 s). Default 60 s.
  absl::Duration retry_for = absl::Seconds(60);
  // Reads the time for the retry window, the waits between retries and the run's deadline
  // (which is on this clock). Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
};

class RemoteDatasets final : public training::DatasetSource {
 public:
  // INVALID_ARGUMENT without a channel.
  static absl::StatusOr<std::unique_ptr<RemoteDatasets>> Create(RemotePortOptions options);

  absl::Status CheckFeatures(const training::RunContext& context, const v1::RunSpec& spec) override;
  absl::StatusOr<v1::Dataset> Build(
      const training::RunContext& context, const v1::RunSpec& spec,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& rows) override;
  absl::Status RecordUsage(const training::RunContext& context, const std::string& dataset_id,
                           const v1::ModelVersionRef& version) override;

 private:
  explicit RemoteDatasets(RemotePortOptions options)
      : options_(std::move(options)), stub_(v1::FeatureStore::NewStub(options_.channel)) {}

  const RemotePortOptions options_;
  const std::unique_ptr<v1::FeatureStore::Stub> stub_;
};

class RemoteModels final : public training::ModelSink {
 public:
  // INVALID_ARGUMENT without a channel.
  static absl::StatusOr<std::unique_ptr<RemoteModels>> Create(RemotePortOptions options);

  absl::StatusOr<v1::ModelVersion> Register(
      const training::RunContext& context, const v1::RunSpec& spec,
      const std::vector<training::ArtifactToUpload>& artifacts, v1::ModelVersion version,
      const std::string& request_id) override;

 private:
  explicit RemoteModels(RemotePortOptions options)
      : options_(std::move(options)), stub_(v1::ModelRegistry::NewStub(options_.channel)) {}
  absl::StatusOr<v1::Artifact> Upload(const training::RunContext& context,
                                      const training::ArtifactToUpload& artifact);

  const RemotePortOptions options_;
  const std::unique_ptr<v1::ModelRegistry::Stub> stub_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_
