#include "services/monitor/tower_retrain_port.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

absl::StatusOr<v1::Job> TowerJobPort::SubmitJob(const v1::SubmitJobRequest& request) {
  return tower_.Call(&client::TowerClient::Stub::SubmitJob, request,
                     absl::StrCat("SubmitJob ", request.request_id()));
}

absl::StatusOr<monitoring::TrainingOrigin> RunSpecOrigins::Origin(absl::string_view model,
                                                                  int64_t version) {
  const std::string name(model);
  v1::GetModelRequest model_request;
  model_request.set_name(name);
  absl::StatusOr<v1::Model> found = registry_.CallIdempotent(
      &client::RegistryClient::Stub::GetModel, model_request, absl::StrCat("GetModel ", name));
  if (!found.ok()) return found.status();
  monitoring::TrainingOrigin origin;
  origin.squad = found->owner_squad();
  origin.use_case_id = found->use_case_id();
  v1::GetVersionRequest version_request;
  version_request.mutable_ref()->set_model(name);
  version_request.mutable_ref()->set_version(version);
  absl::StatusOr<v1::ModelVersion> registered =
      registry_.CallIdempotent(&client::RegistryClient::Stub::GetVersion, version_request,
                               absl::StrCat("GetVersion ", name, ":", version));
  if (!registered.ok()) return registered.status();
  const std::string& run_id = registered->lineage().trainer_run_id();
  if (run_id.empty() || !trainer_.has_value()) return origin;
  v1::GetRunRequest run_request;
  run_request.set_run_id(run_id);
  absl::StatusOr<v1::Run> run = trainer_->CallIdempotent(
      &client::TrainerClient::Stub::GetRun, run_request, absl::StrCat("GetRun ", run_id));
  if (!run.ok()) return run.status();
  origin.spec = run->spec();
  origin.has_spec = true;
  return origin;
}

}  // namespace fabrique::services
