#ifndef FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_
#define FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_

// The gRPC adapter of fabrique.v1.FeatureStore over the domain core (features::FeatureStore):
// each call is first checked by the access guard (streams on their first message), then
// validates what only the wire can get wrong, calls the core with the verified caller, maps the
// status and records metrics. Lists keep to the squads the caller sees; calls spanning groups
// refuse the first group of a squad it does not.

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/core/executor.h"
#include "libs/features/store/feature_store.h"
#include "libs/server/access.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/features/personal_data.h"

namespace fabrique::services {

class LookupMessagePool;

// Online lookup is the hot path: both its calls (unary and streaming) use the callback API and
// run their RocksDB reads on `lookups`, so no gRPC thread waits on the disk; the unary call's
// messages live on pooled arenas, a stream's are reused from one request to the next. Ingest
// uses the callback API too, to read a batch ahead while it writes one (feature_store_ingest.cc).
// The other calls are low-rate and synchronous.
class FeatureStoreService final
    : public v1::FeatureStore::WithCallbackMethod_LookupOnline<
          v1::FeatureStore::WithCallbackMethod_LookupOnlineStream<
              v1::FeatureStore::WithCallbackMethod_Ingest<v1::FeatureStore::Service>>> {
 public:
  // `store` and `lookups` must outlive the service, and `access`'s guard too (its owner lookup
  // is FeatureOwners(store)); metrics are registered in `metrics`.
  FeatureStoreService(features::FeatureStore* store, core::Executor* lookups,
                      server::ServiceAccess access, prometheus::Registry& metrics);
  ~FeatureStoreService() override;

  grpc::Status ApplyEntity(grpc::ServerContext* context, const v1::ApplyEntityRequest* request,
                           v1::Entity* response) override;
  grpc::Status GetEntity(grpc::ServerContext* context, const v1::GetEntityRequest* request,
                         v1::Entity* response) override;
  grpc::Status ListEntities(grpc::ServerContext* context, const v1::ListEntitiesRequest* request,
                            v1::ListEntitiesResponse* response) override;
  grpc::Status ApplyFeatureGroup(grpc::ServerContext* context,
                                 const v1::ApplyFeatureGroupRequest* request,
                                 v1::ApplyFeatureGroupResponse* response) override;
  grpc::Status ApplyFeatureGroupWithProgress(
      grpc::ServerContext* context, const v1::ApplyFeatureGroupRequest* request,
      grpc::ServerWriter<v1::ApplyFeatureGroupProgress>* writer) override;
  grpc::Status GetFeatureGroup(grpc::ServerContext* context,
                               const v1::GetFeatureGroupRequest* request,
                               v1::FeatureGroup* response) override;
  grpc::Status ListFeatureGroups(grpc::ServerContext* context,
                                 const v1::ListFeatureGroupsRequest* request,
                                 v1::ListFeatureGroupsResponse* response) override;
  grpc::Status ListFeatures(grpc::ServerContext* context, const v1::ListFeaturesRequest* request,
                            v1::ListFeaturesResponse* response) override;
  // Writes each batch in order, reading the next one meanwhile; the first refused batch ends
  // the call with its error, the batches before it committed. Every committed batch is durable
  // before the call ends.
  grpc::ServerReadReactor<v1::IngestRequest>* Ingest(grpc::CallbackServerContext* context,
                                                     v1::IngestResponse* response) override;
  grpc::ServerUnaryReactor* LookupOnline(grpc::CallbackServerContext* context,
                                         const v1::LookupOnlineRequest* request,
                                         v1::LookupOnlineResponse* response) override;
  // Checks the caller on the first request (as LookupOnline does), then answers each request as
  // LookupOnline would, one response per request, in order; the first error ends the stream.
  grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* LookupOnlineStream(
      grpc::CallbackServerContext* context) override;
  grpc::Status ReadHistory(grpc::ServerContext* context, const v1::ReadHistoryRequest* request,
                           grpc::ServerWriter<v1::ReadHistoryResponse>* writer) override;
  // The client sends the spec, then label events when they are inline, then closes its side;
  // the server streams the header, row chunks and the recorded dataset last.
  grpc::Status BuildTrainingSet(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BuildTrainingSetResponse, v1::BuildTrainingSetRequest>* stream)
      override;
  grpc::Status GetDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                          v1::Dataset* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status RecordDatasetUsage(grpc::ServerContext* context,
                                  const v1::RecordDatasetUsageRequest* request,
                                  v1::RecordDatasetUsageResponse* response) override;
  grpc::Status GetFeatureGroupLineage(grpc::ServerContext* context,
                                      const v1::GetFeatureGroupLineageRequest* request,
                                      v1::FeatureGroupLineage* response) override;
  grpc::Status ClassifyFeatures(grpc::ServerContext* context,
                                const v1::ClassifyFeaturesRequest* request,
                                v1::FeatureGroup* response) override;
  grpc::Status GetPersonalDataLineage(grpc::ServerContext* context,
                                      const v1::GetPersonalDataLineageRequest* request,
                                      v1::PersonalDataLineage* response) override;
  grpc::Status ListPersonalDataReads(grpc::ServerContext* context,
                                     const v1::ListPersonalDataReadsRequest* request,
                                     v1::ListPersonalDataReadsResponse* response) override;
  grpc::Status VerifyPersonalDataReads(grpc::ServerContext* context,
                                       const v1::VerifyPersonalDataReadsRequest* request,
                                       v1::VerifyPersonalDataReadsResponse* response) override;

 private:
  friend class IngestStream;
  friend class LookupStream;

  // Answers one lookup of `caller`, checked already for `method`: refuses a group the caller
  // does not see or personal features it may not read, reads, logs the personal reads and counts
  // the keys, then calls `done` once with the outcome: on this thread when every row is in
  // memory, else on a lookup thread (no gRPC thread waits for the disk). `context`, `caller`,
  // `request` and `response` must live until `done` is called.
  void AnswerLookup(grpc::CallbackServerContext* context, const char* method,
                    const server::Caller& caller, const v1::LookupOnlineRequest& request,
                    v1::LookupOnlineResponse* response, std::function<void(absl::Status)> done);

  // Counts an ingested batch's rows, rejects and derived values nulled by their expression.
  void RecordIngest(const std::string& group, const v1::IngestBatchResult& result);

  // ApplyFeatureGroup and its streaming form (`method`), with backfill progress to `progress`.
  grpc::Status ApplyWithProgress(grpc::ServerContext* context, absl::string_view method,
                                 const v1::ApplyFeatureGroupRequest& request,
                                 const features::BackfillProgress& progress,
                                 v1::ApplyFeatureGroupResponse* response);
  // The permission a method of this service needs, for messages.
  static std::string Permission(absl::string_view method);
  // Refuses a list filtered on a squad the caller cannot see.
  static absl::Status CheckListedSquad(const server::Caller& caller, const std::string& squad,
                                       const char* method);
  // PERMISSION_DENIED unless the caller sees the owner of every group `spec` reads.
  absl::Status CheckSpecGroups(const server::Caller& caller, const v1::TrainingSetSpec& spec);

  features::FeatureStore* store_;
  core::Executor* lookups_;
  const server::ServiceAccess access_;
  // Checks, counts and logs reads of personal data; uses access_, declared before it.
  PersonalDataReads personal_;
  prometheus::Counter& rows_ingested_;
  prometheus::Family<prometheus::Counter>& rejects_;
  prometheus::Family<prometheus::Counter>& expression_warnings_;
  prometheus::Counter& keys_looked_up_;
  // LookupOnline's request and response, on pooled per-call arenas.
  std::unique_ptr<LookupMessagePool> lookup_messages_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_
