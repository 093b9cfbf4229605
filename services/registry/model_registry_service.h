#ifndef FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_
#define FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_

// The gRPC adapter of `fabrique::v1::ModelRegistry`: validates, calls the registry's cores
// (libs/registry), maps the status and records metrics. It serves models,
// versions, aliases, governed promotion (policies, requests, approvals, the design authority's
// standards), evaluations appended to versions, traffic policies,
// artifact upload and download, the audit trail and the resumable watch. Control-path calls, on
// the sync API. Every call is first checked by the access guard (an upload authenticated before
// its first message is read, then authorised on it) and the cores record the verified caller;
// lists, the audit trail, watches and artifacts keep to models of the squads the caller sees.

#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/core/grpc_status.h"
#include "libs/registry/blob_store.h"
#include "libs/registry/registry_log.h"
#include "libs/registry/registry_store.h"
#include "libs/server/access.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class ModelRegistryService final : public fabrique::v1::ModelRegistry::Service {
 public:
  // None is owned; all must outlive the service, and `access`'s guard too (its owner lookup is
  // ModelOwners(store)). `gc_grace`: CollectGarbage spares blobs younger than this (uploaded
  // for a version not registered yet).
  ModelRegistryService(registry::RegistryStore* store, registry::RegistryLog* log,
                       registry::BlobStore* blobs, server::ServiceAccess access,
                       prometheus::Registry& metrics, absl::Duration gc_grace = absl::Hours(1));

  grpc::Status CreateModel(grpc::ServerContext* context, const v1::CreateModelRequest* request,
                           v1::Model* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::Model* response) override;
  grpc::Status RegisterVersion(grpc::ServerContext* context,
                               const v1::RegisterVersionRequest* request,
                               v1::ModelVersion* response) override;
  grpc::Status GetVersion(grpc::ServerContext* context, const v1::GetVersionRequest* request,
                          v1::ModelVersion* response) override;
  grpc::Status ArchiveVersion(grpc::ServerContext* context,
                              const v1::ArchiveVersionRequest* request,
                              v1::ModelVersion* response) override;
  grpc::Status SetAlias(grpc::ServerContext* context, const v1::SetAliasRequest* request,
                        v1::Alias* response) override;
  grpc::Status GetAlias(grpc::ServerContext* context, const v1::GetAliasRequest* request,
                        v1::Alias* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status UpdateModel(grpc::ServerContext* context, const v1::UpdateModelRequest* request,
                           v1::Model* response) override;
  grpc::Status DeleteVersion(grpc::ServerContext* context, const v1::DeleteVersionRequest* request,
                             google::protobuf::Empty* response) override;
  grpc::Status ListVersions(grpc::ServerContext* context, const v1::ListVersionsRequest* request,
                            v1::ListVersionsResponse* response) override;
  grpc::Status ListAliases(grpc::ServerContext* context, const v1::ListAliasesRequest* request,
                           v1::ListAliasesResponse* response) override;
  grpc::Status DeleteAlias(grpc::ServerContext* context, const v1::DeleteAliasRequest* request,
                           google::protobuf::Empty* response) override;
  grpc::Status SetPromotionPolicy(grpc::ServerContext* context,
                                  const v1::SetPromotionPolicyRequest* request,
                                  v1::PromotionPolicy* response) override;
  grpc::Status GetPromotionPolicy(grpc::ServerContext* context,
                                  const v1::GetPromotionPolicyRequest* request,
                                  v1::PromotionPolicy* response) override;
  grpc::Status ListPromotionPolicies(grpc::ServerContext* context,
                                     const v1::ListPromotionPoliciesRequest* request,
                                     v1::ListPromotionPoliciesResponse* response) override;
  grpc::Status ListPromotionRequests(grpc::ServerContext* context,
                                     const v1::ListPromotionRequestsRequest* request,
                                     v1::ListPromotionRequestsResponse* response) override;
  grpc::Status SetTrafficPolicy(grpc::ServerContext* context,
                                const v1::SetTrafficPolicyRequest* request,
                                v1::TrafficPolicy* response) override;
  grpc::Status GetTrafficPolicy(grpc::ServerContext* context,
                                const v1::GetTrafficPolicyRequest* request,
                                v1::TrafficPolicy* response) override;
  // Governance (registry_governance.cc): appended evaluations and design-authority standards.
  grpc::Status AppendEvaluation(grpc::ServerContext* context,
                                const v1::AppendEvaluationRequest* request,
                                v1::ModelVersion* response) override;
  grpc::Status SetStandard(grpc::ServerContext* context, const v1::SetStandardRequest* request,
                           v1::Standard* response) override;
  grpc::Status GetStandard(grpc::ServerContext* context, const v1::GetStandardRequest* request,
                           v1::Standard* response) override;
  grpc::Status ListStandards(grpc::ServerContext* context, const v1::ListStandardsRequest* request,
                             v1::ListStandardsResponse* response) override;
  grpc::Status DeleteStandard(grpc::ServerContext* context,
                              const v1::DeleteStandardRequest* request,
                              google::protobuf::Empty* response) override;
  grpc::Status RequestPromotion(grpc::ServerContext* context,
                                const v1::RequestPromotionRequest* request,
                                v1::PromotionRequest* response) override;
  grpc::Status GetPromotionRequest(grpc::ServerContext* context,
                                   const v1::GetPromotionRequestRequest* request,
                                   v1::PromotionRequest* response) override;
  grpc::Status ApprovePromotion(grpc::ServerContext* context,
                                const v1::ApprovePromotionRequest* request,
                                v1::PromotionRequest* response) override;
  grpc::Status RejectPromotion(grpc::ServerContext* context,
                               const v1::RejectPromotionRequest* request,
                               v1::PromotionRequest* response) override;
  grpc::Status CollectGarbage(grpc::ServerContext* context,
                              const v1::CollectGarbageRequest* request,
                              v1::CollectGarbageResponse* response) override;
  grpc::Status UploadArtifact(grpc::ServerContext* context,
                              grpc::ServerReader<v1::UploadArtifactRequest>* reader,
                              v1::Artifact* response) override;
  grpc::Status DownloadArtifact(grpc::ServerContext* context,
                                const v1::DownloadArtifactRequest* request,
                                grpc::ServerWriter<v1::DownloadArtifactResponse>* writer) override;
  grpc::Status ListAuditEntries(grpc::ServerContext* context,
                                const v1::ListAuditEntriesRequest* request,
                                v1::ListAuditEntriesResponse* response) override;
  grpc::Status VerifyAuditChain(grpc::ServerContext* context,
                                const v1::VerifyAuditChainRequest* request,
                                v1::VerifyAuditChainResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::WatchEvent>* writer) override;

 private:
  void CountMutation(const char* kind) { mutations_.Add({{"kind", kind}}).Increment(); }
  // Answers with `value`, counting a mutation of `kind` when it succeeded.
  template <typename T>
  grpc::Status Mutated(const char* kind, absl::StatusOr<T> value, T* out) {
    if (!value.ok()) return core::ToGrpcStatus(value.status());
    CountMutation(kind);
    *out = *std::move(value);
    return grpc::Status::OK;
  }

  // PERMISSION_DENIED unless a service makes the call (with its certificate, alone or acting for
  // a user) and holds models.register_for_run in `squad`, the model's: a user is refused
  // whatever they hold. Allowed without authentication (--insecure).
  absl::Status CheckRunClaim(const grpc::ServerContextBase& context,
                             const std::string& squad) const;

  // Whether `caller` may read artifact `sha256` or learn that it is held: anyone who sees every
  // squad; others only when a version of a model of a squad they see references it (artifacts
  // are shared by digest, and a digest must not reveal another squad's models).
  absl::StatusOr<bool> SeesArtifact(const server::Caller& caller, const std::string& sha256) const;

  registry::RegistryStore* const store_;
  registry::RegistryLog* const log_;
  registry::BlobStore* const blobs_;
  const server::ServiceAccess access_;
  prometheus::Family<prometheus::Counter>& mutations_;
  prometheus::Family<prometheus::Counter>& artifact_bytes_;
  prometheus::Gauge& watchers_;
  // Transfer throughput, by direction: rate(bytes) / rate(seconds) is the bytes per second of
  // time spent transferring.
  prometheus::Family<prometheus::Counter>& transfer_bytes_;
  prometheus::Family<prometheus::Counter>& transfer_seconds_;
  void CountTransfer(const char* direction, int64_t bytes, absl::Time start);
  const absl::Duration gc_grace_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_
