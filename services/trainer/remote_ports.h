#ifndef FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_
#define FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_

// The trainer's ports (libs/training/run_pipeline.h) on the real services: the feature store's
// point-in-time BuildTrainingSet and RecordDatasetUsage, and the registry's CreateModel,
// UploadArtifact and RegisterVersion. Calls a dependency answers UNAVAILABLE (or does not answer
// in time) are retried with backoff until `retry_for` has passed; the last error then fails the
// run. Calls carry the submitter's identity, so the registry's audit names who asked.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "grpcpp/channel.h"
#include "libs/training/run_pipeline.h"

namespace fabrique::services {

class RemoteDatasets final : public training::DatasetSource {
 public:
  RemoteDatasets(std::shared_ptr<grpc::Channel> features, absl::Duration retry_for)
      : stub_(v1::FeatureStore::NewStub(std::move(features))), retry_for_(retry_for) {}

  absl::StatusOr<v1::Dataset> Build(
      const v1::RunSpec& spec, const std::string& run_id,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& rows) override;
  absl::Status RecordUsage(const std::string& dataset_id,
                           const v1::ModelVersionRef& version) override;

  // INVALID_ARGUMENT naming each feature (or the label) the feature store does not know, before
  // any work; UNAVAILABLE when it cannot be asked.
  absl::Status CheckFeatures(const v1::RunSpec& spec);

  // Retries stop at the run's deadline too, and a cancel of the run (`cancel`, not owned; may
  // be null) ends the training-set stream at once; set before each run.
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  void set_cancel(training::CancelToken* cancel) { cancel_ = cancel; }

 private:
  std::unique_ptr<v1::FeatureStore::Stub> stub_;
  const absl::Duration retry_for_;
  absl::Time deadline_ = absl::InfiniteFuture();
  training::CancelToken* cancel_ = nullptr;
};

class RemoteModels final : public training::ModelSink {
 public:
  RemoteModels(std::shared_ptr<grpc::Channel> registry, absl::Duration retry_for)
      : stub_(v1::ModelRegistry::NewStub(std::move(registry))), retry_for_(retry_for) {}

  absl::StatusOr<v1::ModelVersion> Register(
      const v1::RunSpec& spec, const std::vector<training::ArtifactToUpload>& artifacts,
      v1::ModelVersion version, const std::string& request_id) override;

  // Who the calls are made for (the run's submitter), and the run's deadline, which retries stop
  // at too; set before each run.
  void set_caller(const v1::Principal& caller) { caller_ = caller; }
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

 private:
  absl::StatusOr<v1::Artifact> Upload(const training::ArtifactToUpload& artifact);
  std::unique_ptr<v1::ModelRegistry::Stub> stub_;
  const absl::Duration retry_for_;
  v1::Principal caller_;
  absl::Time deadline_ = absl::InfiniteFuture();
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_REMOTE_PORTS_H_
