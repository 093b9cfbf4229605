#ifndef FABRIQUE_LIBS_TRAINING_PORTS_H_
#define FABRIQUE_LIBS_TRAINING_PORTS_H_

// The two ports through which a run reaches other services, keeping gRPC out of this library:
// DatasetSource (the feature store) and ModelSink (the model registry). The trainer implements
// them with the services' clients (services/trainer/remote_ports.h), tests with fakes.
//
// Every call takes the run's RunContext as an argument: its deadline, its cancel token and who
// submitted it. Nothing about a run is kept in a port between calls, so one port serves any
// number of runs at once.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/features.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/training/cancel_token.h"

namespace fabrique::training {

// What a port needs to know of the run a call is made for.
struct RunContext {
  std::string run_id;  // "" for a submission's checks, before the run exists.
  // Calls, their retries and the waits between them end by then (read on the clock the
  // pipeline was given). InfiniteFuture = no deadline: so for Register and RecordUsage, made
  // past the run's point of no return, where only the ports' own retry window bounds them.
  absl::Time deadline = absl::InfiniteFuture();
  // Not owned; may be null. A call the run is blocked in, or a wait between retries, ends at
  // once when it fires.
  CancelToken* cancel = nullptr;
  // Who submitted the run, as the trainer verified them (subject, groups, squad): the calls
  // that build its training set and register its version are made on their behalf.
  v1::Principal caller;
  // The squad the run trains for (Run.squad): owner of a model the run creates.
  std::string squad;
};

class DatasetSource {
 public:
  virtual ~DatasetSource() = default;
  // OK when every feature `spec` names, and its label feature, exists; INVALID_ARGUMENT naming
  // each one that does not, before any work; UNAVAILABLE when that cannot be asked.
  virtual absl::Status CheckFeatures(const RunContext& context, const v1::RunSpec& spec) = 0;
  // Builds the training set of `spec` for run context.run_id: the header, then each chunk of
  // rows, then returns the dataset as recorded.
  virtual absl::StatusOr<v1::Dataset> Build(
      const RunContext& context, const v1::RunSpec& spec,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& rows) = 0;
  // Records that `dataset_id` trained `version` (lineage).
  virtual absl::Status RecordUsage(const RunContext& context, const std::string& dataset_id,
                                   const v1::ModelVersionRef& version) = 0;
};

struct ArtifactToUpload {
  std::string name;
  v1::ArtifactKind kind = v1::ARTIFACT_KIND_OTHER;
  std::string media_type;
  std::string bytes;
};

class ModelSink {
 public:
  virtual ~ModelSink() = default;
  // Creates the model when absent (owned by the run's squad), uploads the artifacts and
  // registers `version` (its artifacts filled in) with `request_id`, so a retry after a lost
  // answer finds the same version; returns the version registered.
  virtual absl::StatusOr<v1::ModelVersion> Register(const RunContext& context,
                                                    const v1::RunSpec& spec,
                                                    const std::vector<ArtifactToUpload>& artifacts,
                                                    v1::ModelVersion version,
                                                    const std::string& request_id) = 0;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_PORTS_H_
