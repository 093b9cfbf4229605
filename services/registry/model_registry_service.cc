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

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

// Held by the trainer's identity alone: registering a version that claims a trainer run.
constexpr char kRegisterForRun[] = "models.register_for_run";
constexpr char kServicePrefix[] = "service:";
constexpr int kDefaultAuditPage = 100;
constexpr int kMaxAuditPage = 1000;
constexpr int kDefaultChunkBytes = 1 << 20;
// A chunk message stays under gRPC's default 4 MiB receive limit, which clients rarely raise.
constexpr int kMaxChunkBytes = (4 << 20) - (4 << 10);
// A watcher idle this long gets a BOOKMARK with the current revision (and the server learns
// whether the client is still there).
constexpr absl::Duration kBookmarkInterval = absl::Seconds(1);

template <typename T>
grpc::Status Answer(absl::StatusOr<T> value, T* out) {
  if (!value.ok()) return ToGrpcStatus(value.status());
  *out = *std::move(value);
  return grpc::Status::OK;
}

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// The permission a method of this service needs, for messages.
std::string Permission(absl::string_view method) {
  return PermissionOf(v1::ModelRegistry::service_full_name(), method);
}

// Refuses a list filtered on a squad the caller cannot see.
grpc::Status CheckListedSquad(const server::Caller& caller, const std::string& squad,
                              absl::string_view method) {
  if (squad.empty() || caller.Sees(squad)) return grpc::Status::OK;
  return ToGrpcStatus(absl::PermissionDeniedError(
      absl::StrCat(caller.principal.subject(), " lacks ", Permission(method), " in squad ", squad,
                   ", so it may not list what that squad owns")));
}

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

absl::StatusOr<bool> ModelRegistryService::SeesArtifact(const server::Caller& caller,
                                                        const std::string& sha256) const {
  if (caller.Sees(auth::kAllSquads)) return true;
  return store_->ArtifactReferenced(sha256,
                                    [&](absl::string_view squad) { return caller.Sees(squad); });
}

void ModelRegistryService::CountTransfer(const char* direction, int64_t bytes, absl::Time start) {
  transfer_bytes_.Add({{"direction", direction}}).Increment(static_cast<double>(bytes));
  transfer_seconds_.Add({{"direction", direction}})
      .Increment(absl::ToDoubleSeconds(absl::Now() - start));
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

grpc::Status ModelRegistryService::SetPromotionPolicy(grpc::ServerContext* context,
                                                      const v1::SetPromotionPolicyRequest* request,
                                                      v1::PromotionPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetPromotionPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->policy().model().empty()) {
    return Invalid("SetPromotionPolicyRequest.policy needs a model and an alias");
  }
  return Mutated("policy.set", store_->SetPromotionPolicy(request->policy(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetPromotionPolicy(grpc::ServerContext* context,
                                                      const v1::GetPromotionPolicyRequest* request,
                                                      v1::PromotionPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetPromotionPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->alias().empty()) {
    return Invalid("GetPromotionPolicyRequest needs a model and an alias");
  }
  if (absl::Status model = store_->GetModel(request->model()).status(); !model.ok()) {
    return ToGrpcStatus(model);
  }
  // With notes on the standards that override or are tightened by its gates.
  return Answer(store_->DescribePromotionPolicy(request->model(), request->alias()), response);
}

grpc::Status ModelRegistryService::ListPromotionPolicies(
    grpc::ServerContext* context, const v1::ListPromotionPoliciesRequest* request,
    v1::ListPromotionPoliciesResponse* response) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListPromotionPolicies", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty()) return Invalid("ListPromotionPoliciesRequest.model is required");
  absl::StatusOr<std::vector<v1::PromotionPolicy>> policies =
      store_->ListPromotionPolicies(request->model());
  if (!policies.ok()) return ToGrpcStatus(policies.status());
  for (v1::PromotionPolicy& policy : *policies) *response->add_policies() = std::move(policy);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::ListPromotionRequests(
    grpc::ServerContext* context, const v1::ListPromotionRequestsRequest* request,
    v1::ListPromotionRequestsResponse* response) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListPromotionRequests", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!request->model().empty()) {
    ModelOwnerCache owners(store_);
    const std::string& owner = owners.OwnerOf(request->model());
    if (!owner.empty() && !caller->Sees(owner)) {
      return ToGrpcStatus(NotVisible(*caller, absl::StrCat("model '", request->model(), "'"),
                                     Permission("ListPromotionRequests"), owner));
    }
  }
  return Answer(store_->ListPromotionRequests(
                    *request, [&](absl::string_view squad) { return caller->Sees(squad); }),
                response);
}

grpc::Status ModelRegistryService::SetTrafficPolicy(grpc::ServerContext* context,
                                                    const v1::SetTrafficPolicyRequest* request,
                                                    v1::TrafficPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetTrafficPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->policy().model().empty()) {
    return Invalid("SetTrafficPolicyRequest.policy.model is required");
  }
  return Mutated("traffic.set", store_->SetTrafficPolicy(request->policy(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetTrafficPolicy(grpc::ServerContext* context,
                                                    const v1::GetTrafficPolicyRequest* request,
                                                    v1::TrafficPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetTrafficPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty()) return Invalid("GetTrafficPolicyRequest.model is required");
  return Answer(store_->GetTrafficPolicy(request->model()), response);
}

grpc::Status ModelRegistryService::RequestPromotion(grpc::ServerContext* context,
                                                    const v1::RequestPromotionRequest* request,
                                                    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RequestPromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->version() <= 0) {
    return Invalid("RequestPromotionRequest needs a model, an alias and a version number >= 1");
  }
  grpc::Status status =
      Answer(store_->RequestPromotion(request->model(), request->alias(), request->version(),
                                      request->comment(), caller->principal, request->dry_run(),
                                      request->request_id()),
             response);
  // A refused request is stored too (REFUSED): a mutation, though the call fails.
  if (!request->dry_run() &&
      (status.ok() || status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)) {
    CountMutation("promotion.request");
  }
  return status;
}

grpc::Status ModelRegistryService::GetPromotionRequest(
    grpc::ServerContext* context, const v1::GetPromotionRequestRequest* request,
    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetPromotionRequest", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("GetPromotionRequestRequest.id is required");
  return Answer(store_->GetPromotionRequest(request->id()), response);
}

grpc::Status ModelRegistryService::ApprovePromotion(grpc::ServerContext* context,
                                                    const v1::ApprovePromotionRequest* request,
                                                    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ApprovePromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("ApprovePromotionRequest.id is required");
  return Mutated("promotion.approve",
                 store_->DecidePromotion(request->id(), /*approve=*/true, request->comment(),
                                         caller->principal),
                 response);
}

grpc::Status ModelRegistryService::RejectPromotion(grpc::ServerContext* context,
                                                   const v1::RejectPromotionRequest* request,
                                                   v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RejectPromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("RejectPromotionRequest.id is required");
  return Mutated("promotion.reject",
                 store_->DecidePromotion(request->id(), /*approve=*/false, request->comment(),
                                         caller->principal),
                 response);
}

grpc::Status ModelRegistryService::CollectGarbage(grpc::ServerContext* context,
                                                  const v1::CollectGarbageRequest* request,
                                                  v1::CollectGarbageResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CollectGarbage", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const absl::Status collected = store_->WithReferencedArtifacts(
      [&](const absl::flat_hash_set<std::string>& referenced) -> absl::Status {
        absl::StatusOr<registry::GarbageCollection> result =
            blobs_->CollectGarbage(referenced, gc_grace_, request->dry_run());
        if (!result.ok()) return result.status();
        response->set_blobs_removed(result->blobs_removed);
        response->set_bytes_freed(result->bytes_removed);
        for (const std::string& sha256 : result->sha256s) response->add_sha256s(sha256);
        return absl::OkStatus();
      });
  if (collected.ok() && !request->dry_run()) CountMutation("artifacts.collect");
  return ToGrpcStatus(collected);
}

grpc::Status ModelRegistryService::UploadArtifact(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadArtifactRequest>* reader,
    v1::Artifact* response) {
  // Who is sending is known before anything they send is parsed.
  if (absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(*context);
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  v1::UploadArtifactRequest message;
  const bool read = reader->Read(&message);
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "UploadArtifact", message);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!read || !message.has_header()) {
    return Invalid("an upload starts with an ArtifactUploadHeader message");
  }
  const absl::Time start = absl::Now();
  const v1::ArtifactUploadHeader header = message.header();
  response->set_media_type(header.media_type());
  // Already held and readable by the caller: answer at once, without reading the content (the
  // client may stop sending). Held for others only: the content is read and checked, as if new,
  // so that the answer tells nothing the caller did not send.
  absl::StatusOr<bool> seen =
      header.sha256().empty() ? false : SeesArtifact(*caller, header.sha256());
  if (!seen.ok()) return ToGrpcStatus(seen.status());
  if (*seen) {
    absl::StatusOr<int64_t> held = blobs_->Size(header.sha256());
    if (held.ok()) {
      response->set_sha256(absl::AsciiStrToLower(header.sha256()));
      response->set_size_bytes(*held);
      artifact_bytes_.Add({{"outcome", "deduplicated"}}).Increment(static_cast<double>(*held));
      return grpc::Status::OK;
    }
    if (!absl::IsNotFound(held.status())) return ToGrpcStatus(held.status());
  }
  absl::StatusOr<std::unique_ptr<registry::BlobStore::Upload>> upload = blobs_->StartUpload();
  if (!upload.ok()) return ToGrpcStatus(upload.status());
  while (reader->Read(&message)) {
    if (message.has_header()) return Invalid("an upload has one header, first");
    if (absl::Status appended = (*upload)->Append(message.chunk()); !appended.ok()) {
      return ToGrpcStatus(appended);
    }
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled: nothing was stored");
  }
  if (header.size_bytes() > 0 && header.size_bytes() != (*upload)->size_bytes()) {
    return grpc::Status(grpc::StatusCode::DATA_LOSS,
                        absl::StrCat("the header announced ", header.size_bytes(), " bytes but ",
                                     (*upload)->size_bytes(),
                                     " arrived: nothing was stored; re-send the artifact"));
  }
  absl::StatusOr<registry::BlobInfo> stored = (*upload)->Commit(header.sha256());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  response->set_sha256(stored->sha256);
  response->set_size_bytes(stored->size_bytes);
  CountTransfer("upload", stored->size_bytes, start);
  artifact_bytes_.Add({{"outcome", stored->deduplicated ? "deduplicated" : "stored"}})
      .Increment(static_cast<double>(stored->size_bytes));
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::DownloadArtifact(
    grpc::ServerContext* context, const v1::DownloadArtifactRequest* request,
    grpc::ServerWriter<v1::DownloadArtifactResponse>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DownloadArtifact", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->chunk_size() < 0 || request->chunk_size() > kMaxChunkBytes) {
    return Invalid(absl::StrCat("DownloadArtifactRequest.chunk_size must be 0 (1 MiB) to ",
                                kMaxChunkBytes, " bytes (4 MiB less 4 KiB)"));
  }
  absl::StatusOr<bool> seen = SeesArtifact(*caller, request->sha256());
  if (!seen.ok()) return ToGrpcStatus(seen.status());
  if (!*seen) {
    // The same answer whether or not the registry holds it: a digest probes nothing.
    return ToGrpcStatus(absl::NotFoundError(
        absl::StrCat("no artifact ", request->sha256(), " that a version of a model of squad ",
                     absl::StrJoin(caller->squads, ", "), " references (where ",
                     caller->principal.subject(), " holds ", Permission("DownloadArtifact"), ")")));
  }
  absl::StatusOr<std::unique_ptr<registry::BlobStore::Reader>> reader =
      blobs_->Open(request->sha256());
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  if (absl::Status moved = (*reader)->Seek(request->offset()); !moved.ok()) {
    return ToGrpcStatus(moved);
  }
  const absl::Time start = absl::Now();
  const size_t chunk = request->chunk_size() > 0 ? request->chunk_size() : kDefaultChunkBytes;
  v1::DownloadArtifactResponse response;
  response.mutable_artifact()->set_sha256(absl::AsciiStrToLower(request->sha256()));
  response.mutable_artifact()->set_size_bytes((*reader)->size_bytes());
  int64_t offset = request->offset();
  do {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    if (absl::Status read = (*reader)->Read(chunk, response.mutable_chunk()); !read.ok()) {
      return ToGrpcStatus(read);
    }
    response.set_offset(offset);
    offset += static_cast<int64_t>(response.chunk().size());
    // The first message carries the artifact (and may be empty, for an empty artifact).
    if ((response.chunk().empty() && !response.has_artifact()) || !writer->Write(response)) break;
    response.clear_artifact();
  } while (!response.chunk().empty());
  CountTransfer("download", offset - request->offset(), start);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::ListAuditEntries(grpc::ServerContext* context,
                                                    const v1::ListAuditEntriesRequest* request,
                                                    v1::ListAuditEntriesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListAuditEntries", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  int64_t start = request->start_sequence();
  if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &start)) {
    return Invalid("ListAuditEntriesRequest.page_token is not one this server gave");
  }
  const int page =
      request->page_size() <= 0 ? kDefaultAuditPage : std::min(request->page_size(), kMaxAuditPage);
  ModelOwnerCache owners(store_);
  if (!request->model().empty()) {
    const std::string& owner = owners.OwnerOf(request->model());
    if (!owner.empty() && !caller->Sees(owner)) {
      return ToGrpcStatus(NotVisible(*caller, absl::StrCat("model '", request->model(), "'"),
                                     Permission("ListAuditEntries"), owner));
    }
  }
  // An entry about no model is the platform's: shown to those who read audit everywhere.
  const auto visible = [&](const v1::AuditEntry& entry) {
    const std::string model(ModelOfTarget(entry.target()));
    return model.empty() ? caller->Sees(auth::kAllSquads) : caller->Sees(owners.OwnerOf(model));
  };
  const std::string target = absl::StrCat("models/", request->model());
  int64_t next = 0;
  const absl::Status listed = log_->AuditEntries(start, 0, [&](const v1::AuditEntry& entry) {
    if (response->entries_size() == page) {
      next = entry.sequence();
      return false;
    }
    const bool wanted = request->model().empty() || entry.target() == target ||
                        absl::StartsWith(entry.target(), target + "/");
    if (wanted && visible(entry)) *response->add_entries() = entry;
    return true;
  });
  if (!listed.ok()) return ToGrpcStatus(listed);
  if (next > 0) response->set_next_page_token(absl::StrCat(next));
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::VerifyAuditChain(grpc::ServerContext* context,
                                                    const v1::VerifyAuditChainRequest* request,
                                                    v1::VerifyAuditChainResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "VerifyAuditChain", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::AuditChainResult> result =
      log_->VerifyAudit(request->start_sequence(), request->end_sequence());
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_valid(result->valid);
  response->set_entries_checked(result->entries_checked);
  response->set_first_bad_sequence(result->first_bad_sequence);
  response->set_detail(result->detail);
  response->set_head_hash(result->head_hash);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::Watch(grpc::ServerContext* context,
                                         const v1::WatchRequest* request,
                                         grpc::ServerWriter<v1::WatchEvent>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "Watch", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->include_snapshot() && request->after_revision() > 0) {
    return Invalid(
        "WatchRequest: include_snapshot starts from the current state, after_revision resumes "
        "from a past one; set one of them");
  }
  const int64_t current = log_->revision();
  if (request->after_revision() > current) {
    return grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                        absl::StrCat("revision ", request->after_revision(),
                                     " is ahead of the registry's ", current));
  }
  const std::set<std::string> models(request->models().begin(), request->models().end());
  // Events about models of squads the caller cannot see are skipped. A model's owner is read at
  // each of its events: a model moved to another squad stops (or starts) showing at once.
  const auto visible = [&](const v1::WatchEvent& event) {
    absl::StatusOr<v1::Model> model = store_->GetModel(event.model());
    return model.ok() && caller->Sees(model->owner_squad());
  };
  int64_t after = request->after_revision() > 0 ? request->after_revision() : current;
  bool open = true;
  if (request->include_snapshot()) {
    absl::StatusOr<registry::RegistryStore::StateSnapshot> snapshot =
        store_->SnapshotState({models.begin(), models.end()});
    if (!snapshot.ok()) return ToGrpcStatus(snapshot.status());
    for (const v1::WatchEvent& event : snapshot->events) {
      if (!visible(event)) continue;
      if (!(open = writer->Write(event))) break;
    }
    v1::WatchEvent complete;
    complete.set_type(v1::WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE);
    complete.set_revision(snapshot->revision);
    open = open && writer->Write(complete);
    after = snapshot->revision;
  }
  watchers_.Increment();
  while (open && !context->IsCancelled() && !log_->interrupted()) {
    // Only up to the advanced revision: an event already written but not yet advanced (its
    // commit in flight) would let a client resume from a revision the registry still calls
    // ahead of its own.
    const int64_t advanced = log_->revision();
    const absl::Status read = log_->EventsAfter(after, 0, [&](const v1::WatchEvent& event) {
      if (event.revision() > advanced) return false;
      after = event.revision();
      if ((!models.empty() && models.count(event.model()) == 0) || !visible(event)) return true;
      open = writer->Write(event);
      return open;
    });
    if (!read.ok()) {
      watchers_.Decrement();
      return ToGrpcStatus(read);
    }
    if (open && log_->WaitForRevisionAfter(after, kBookmarkInterval) <= after) {
      v1::WatchEvent bookmark;
      bookmark.set_type(v1::WATCH_EVENT_TYPE_BOOKMARK);
      bookmark.set_revision(after);
      open = writer->Write(bookmark);
    }
  }
  watchers_.Decrement();
  if (log_->interrupted()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the registry is stopping: reconnect with after_revision=",
                                     after, " to miss nothing"));
  }
  return grpc::Status::OK;
}

}  // namespace fabrique::services
