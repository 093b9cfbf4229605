#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_PORTS_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_PORTS_H_

// How the retrain trigger reaches the rest of the platform without seeing gRPC: the tower that
// takes training jobs, and what the registry and the trainer say of how a version was trained.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::monitoring {

class TowerPort {
 public:
  virtual ~TowerPort() = default;
  // Submits one job, one try (the trigger schedules retries). UNAVAILABLE or DEADLINE_EXCEEDED
  // when the tower could not take it now (retried later, the request_id making it count once);
  // other errors are final.
  virtual absl::StatusOr<v1::Job> SubmitJob(const v1::SubmitJobRequest& request) = 0;
};

// Where a version came from: the squad and use case it is trained for, and the spec of the run
// that trained it.
struct TrainingOrigin {
  std::string squad;
  std::string use_case_id;
  v1::RunSpec spec;  // Unset fields when the version has no trainer run.
  bool has_spec = false;
};

class TrainingOriginSource {
 public:
  virtual ~TrainingOriginSource() = default;
  // UNAVAILABLE while the registry or trainer cannot be asked (tried again later); NOT_FOUND
  // for a model the registry does not have.
  virtual absl::StatusOr<TrainingOrigin> Origin(absl::string_view model, int64_t version) = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_PORTS_H_
