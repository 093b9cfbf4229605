#ifndef FABRIQUE_SERVICES_MONITOR_TOWER_RETRAIN_PORT_H_
#define FABRIQUE_SERVICES_MONITOR_TOWER_RETRAIN_PORT_H_

// The retrain trigger's ports (libs/monitoring/alerts/retrain_ports.h) on the real services,
// through libs/client's typed clients, as the monitor's own identity:
// - TowerJobPort submits a job to the tower's SubmitJob, one try per call: the trigger keeps the
//   request and schedules the retries, so a tower that is down never blocks an evaluation.
// - RunSpecOrigins reads the model's squad and use case (registry GetModel), the version's
//   trainer run (GetVersion's lineage.trainer_run_id) and that run's spec (trainer GetRun).

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/client/typed_clients.h"
#include "libs/monitoring/alerts/retrain_ports.h"

namespace fabrique::services {

class TowerJobPort : public monitoring::TowerPort {
 public:
  explicit TowerJobPort(client::TowerClient tower) : tower_(std::move(tower)) {}
  absl::StatusOr<v1::Job> SubmitJob(const v1::SubmitJobRequest& request) override;

 private:
  client::TowerClient tower_;
};

class RunSpecOrigins : public monitoring::TrainingOriginSource {
 public:
  // Without a trainer client, versions are taken to have no run spec (the policy's
  // spec_template is then needed).
  RunSpecOrigins(client::RegistryClient registry, std::optional<client::TrainerClient> trainer)
      : registry_(std::move(registry)), trainer_(std::move(trainer)) {}
  absl::StatusOr<monitoring::TrainingOrigin> Origin(absl::string_view model,
                                                    int64_t version) override;

 private:
  client::RegistryClient registry_;
  std::optional<client::TrainerClient> trainer_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_TOWER_RETRAIN_PORT_H_
