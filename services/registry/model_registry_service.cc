// The registry's adapter: construction, the run claim, and models, versions and aliases.
// Promotion, transfers, and audit and watch are in the files named after them.

#include "services/registry/model_registry_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/registry/model_owners.h"
#include "services/registry/registry_replies.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using registry_replies::CheckListedSquad;
using registry_replies::Invalid;
using registry_replies::Permission;

// Held by the trainer's identity alone: registering a version that claims a trainer run.
constexpr char kRegisterForRun[] = "models.register_for_run";
constexpr char kServicePrefix[] = "service:";

}  // namespace

ModelRegistryService::ModelRegistryService(registry::RegistryStore* store,
                                           registry::RegistryLog* log, registry::BlobStore* blobs,
                                           server::ServiceAccess access,
                                           prometheus::Registry& metrics, absl::Duration gc_grace)
    : store_(store),
      log_(log),
      blobs_(blobs),
      access_(std::move(access)),
      mutations_(prometheus::BuildCounter()
                     .Name("fabrique_registry_mutations_total")
                     .Help("Committed registry mutations, by kind.")
                     .Register(metrics)),
      artifact_bytes_(prometheus::BuildCounter()
                          .Name("fabrique_registry_artifact_bytes_total")
                          .Help("Artifact bytes uploaded, by outcome: stored, or deduplicated "
                                "(already held, not stored again).")
                          .Register(metrics)),
      watchers_(prometheus::BuildGauge()
                    .Name("fabrique_registry_watchers")
                    .Help("Watch streams open.")
                    .Register(metrics)
                    .Add({})),
      transfer_bytes_(prometheus::BuildCounter()
                          .Name("fabrique_registry_transfer_bytes_total")
                          .Help("Artifact bytes transferred, by direction (upload, download).")
                          .Register(metrics)),
      transfer_seconds_(prometheus::BuildCounter()
                            .Name("fabrique_registry_transfer_seconds_total")
                            .Help("Seconds spent in artifact transfers, by direction; "
                                  "bytes_total / seconds_total is their throughput.")
                            .Register(metrics)),
      gc_grace_(gc_grace) {}

absl::Status ModelRegistryService::CheckRunClaim(const grpc::ServerContextBase& context,
                                                 const std::string& squad) const {
  absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(context);
  if (!who.ok()) return who.status();
  if (access_.guard().insecure()) return absl::OkStatus();  // No identity to judge.
  // Only a service's certificate vouches for a run: the trainer's word is what is judged, never
  // a user's, whatever role a binding gives them (the user it acts for holds no such
  // permission).
  std::string service = who->delegating_service;
  if (service.empty() && absl::StartsWith(who->subject.name, kServicePrefix)) {
    service = who->subject.name.substr(sizeof(kServicePrefix) - 1);
  }
  if (service.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(who->subject.name, " may not claim a trainer run for a version in squad ",
                     squad, ": only the trainer registers versions for runs (", kRegisterForRun,
                     " counts only for a service's certificate)"));
  }
  server::Authentication caller;
  caller.subject.name = absl::StrCat(kServicePrefix, service);
  caller.method = "certificate";
  auth::Decision decision = access_.guard().Decide(caller, kRegisterForRun, squad);
  if (decision.allowed) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(decision.reason, ": only the trainer registers versions for runs"));
}

grpc::Status ModelRegistryService::CreateModel(grpc::ServerContext* context,
                                               const v1::CreateModelRequest* request,
                                               v1::Model* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CreateModel", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Mutated("model.create", store_->CreateModel(request->model(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetModel(grpc::ServerContext* context,
                                            const v1::GetModelRequest* request,
                                            v1::Model* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetModel", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->name().empty()) return Invalid("GetModelRequest.name is required");
  return Answer(store_->GetModel(request->name()), response);
}

grpc::Status ModelRegistryService::RegisterVersion(grpc::ServerContext* context,
                                                   const v1::RegisterVersionRequest* request,
                                                   v1::ModelVersion* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RegisterVersion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->version().model().empty()) {
    return Invalid("RegisterVersionRequest.version.model is required");
  }
  // A version that claims a trainer run vouches for its lineage: only a service trusted to run
  // training (models.register_for_run, the trainer's) may say so, whoever it acts for.
  if (!request->version().lineage().trainer_run_id().empty()) {
    if (absl::Status vouched = CheckRunClaim(*context, caller->principal.squad()); !vouched.ok()) {
      return ToGrpcStatus(vouched);
    }
  }
  return Mutated(
      "version.register",
      store_->RegisterVersion(request->version(), caller->principal, request->request_id()),
      response);
}

grpc::Status ModelRegistryService::GetVersion(grpc::ServerContext* context,
                                              const v1::GetVersionRequest* request,
                                              v1::ModelVersion* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetVersion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const v1::ModelRef& ref = request->ref();
  if (ref.model().empty()) return Invalid("GetVersionRequest.ref.model is required");
  int64_t number = ref.version();
  if (ref.selector_case() == v1::ModelRef::kAlias) {
    absl::StatusOr<v1::Alias> alias = store_->GetAlias(ref.model(), ref.alias());
    if (!alias.ok()) return ToGrpcStatus(alias.status());
    number = alias->version();
  } else if (ref.selector_case() == v1::ModelRef::SELECTOR_NOT_SET) {
    absl::StatusOr<v1::Model> model = store_->GetModel(ref.model());
    if (!model.ok()) return ToGrpcStatus(model.status());
    if (model->latest_version() == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("model '", ref.model(), "' has no version yet"));
    }
    number = model->latest_version();
  }
  return Answer(store_->GetVersion(ref.model(), number), response);
}

grpc::Status ModelRegistryService::ArchiveVersion(grpc::ServerContext* context,
                                                  const v1::ArchiveVersionRequest* request,
                                                  v1::ModelVersion* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ArchiveVersion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const v1::ModelVersionRef& ref = request->version();
  if (ref.model().empty() || ref.version() <= 0) {
    return Invalid("ArchiveVersionRequest.version needs a model and a version number >= 1");
  }
  return Mutated(
      "version.archive",
      store_->ArchiveVersion(ref.model(), ref.version(), caller->principal, request->reason()),
      response);
}

grpc::Status ModelRegistryService::SetAlias(grpc::ServerContext* context,
                                            const v1::SetAliasRequest* request,
                                            v1::Alias* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetAlias", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->version() <= 0) {
    return Invalid("SetAliasRequest needs a model, an alias and a version number >= 1");
  }
  return Mutated(
      "alias.set",
      store_->SetAlias(request->model(), request->alias(), request->version(), caller->principal,
                       request->expected_current_version(), request->reason()),
      response);
}

grpc::Status ModelRegistryService::GetAlias(grpc::ServerContext* context,
                                            const v1::GetAliasRequest* request,
                                            v1::Alias* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetAlias", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->alias().empty()) {
    return Invalid("GetAliasRequest needs a model and an alias");
  }
  return Answer(store_->GetAlias(request->model(), request->alias()), response);
}

grpc::Status ModelRegistryService::ListModels(grpc::ServerContext* context,
                                              const v1::ListModelsRequest* request,
                                              v1::ListModelsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListModels", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (grpc::Status seen = CheckListedSquad(*caller, request->owner_squad(), "ListModels");
      !seen.ok()) {
    return seen;
  }
  return Answer(
      store_->ListModels(*request, [&](absl::string_view squad) { return caller->Sees(squad); }),
      response);
}

grpc::Status ModelRegistryService::UpdateModel(grpc::ServerContext* context,
                                               const v1::UpdateModelRequest* request,
                                               v1::Model* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "UpdateModel", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().name().empty()) return Invalid("UpdateModelRequest.model.name is required");
  const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                       request->update_mask().paths().end());
  // Moving a model to another squad takes the permission there too (the guard checked the
  // squad it leaves). No mask means every mutable field, the owner included.
  const bool moves_owner =
      paths.empty() || std::find(paths.begin(), paths.end(), "owner_squad") != paths.end();
  if (moves_owner && request->model().owner_squad() != caller->principal.squad()) {
    if (absl::Status arriving = AlsoAllowed(access_, *context, Permission("UpdateModel"),
                                            request->model().owner_squad());
        !arriving.ok()) {
      return ToGrpcStatus(arriving);
    }
  }
  return Mutated("model.update", store_->UpdateModel(request->model(), paths, caller->principal),
                 response);
}

grpc::Status ModelRegistryService::DeleteVersion(grpc::ServerContext* context,
                                                 const v1::DeleteVersionRequest* request,
                                                 google::protobuf::Empty* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DeleteVersion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const v1::ModelVersionRef& ref = request->version();
  if (ref.model().empty() || ref.version() <= 0) {
    return Invalid("DeleteVersionRequest.version needs a model and a version number >= 1");
  }
  const absl::Status deleted = store_->DeleteVersion(ref.model(), ref.version(), caller->principal);
  if (deleted.ok()) CountMutation("version.delete");
  return ToGrpcStatus(deleted);
}

grpc::Status ModelRegistryService::ListVersions(grpc::ServerContext* context,
                                                const v1::ListVersionsRequest* request,
                                                v1::ListVersionsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListVersions", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (grpc::Status seen = CheckListedSquad(*caller, request->owner_squad(), "ListVersions");
      !seen.ok()) {
    return seen;
  }
  return Answer(
      store_->ListVersions(*request, [&](absl::string_view squad) { return caller->Sees(squad); }),
      response);
}

grpc::Status ModelRegistryService::ListAliases(grpc::ServerContext* context,
                                               const v1::ListAliasesRequest* request,
                                               v1::ListAliasesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListAliases", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty()) return Invalid("ListAliasesRequest.model is required");
  absl::StatusOr<std::vector<v1::Alias>> aliases = store_->ListAliases(request->model());
  if (!aliases.ok()) return ToGrpcStatus(aliases.status());
  for (v1::Alias& alias : *aliases) *response->add_aliases() = std::move(alias);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::DeleteAlias(grpc::ServerContext* context,
                                               const v1::DeleteAliasRequest* request,
                                               google::protobuf::Empty* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DeleteAlias", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->alias().empty()) {
    return Invalid("DeleteAliasRequest needs a model and an alias");
  }
  const absl::Status deleted =
      store_->DeleteAlias(request->model(), request->alias(), caller->principal, request->reason());
  if (deleted.ok()) CountMutation("alias.delete");
  return ToGrpcStatus(deleted);
}

}  // namespace fabrique::services
