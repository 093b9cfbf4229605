// The feature store's adapter: training sets and datasets, lineage and personal data.

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "libs/core/status_macros.h"
#include "libs/features/store/personal_lineage.h"
#include "libs/features/store/training_set_build.h"
#include "services/access_checks.h"
#include "services/answer.h"
#include "services/features/feature_owners.h"
#include "services/features/feature_store_service.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

}  // namespace

grpc::Status FeatureStoreService::BuildTrainingSet(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::BuildTrainingSetResponse, v1::BuildTrainingSetRequest>* stream) {
  v1::BuildTrainingSetRequest request;
  // Who calls is known before the spec is read, so a stranger's labels are never parsed.
  if (absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(*context);
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  const bool read = stream->Read(&request);
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "BuildTrainingSet", request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!read || !request.has_spec()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of BuildTrainingSet must be a TrainingSetSpec");
  }
  if (absl::Status seen = CheckSpecGroups(*caller, request.spec()); !seen.ok()) {
    return ToGrpcStatus(seen);
  }
  auto send = [&](v1::BuildTrainingSetResponse* response) -> absl::Status {
    if (context->IsCancelled()) return absl::CancelledError("the client went away");
    if (!stream->Write(*response)) return absl::CancelledError("the client stopped reading");
    return absl::OkStatus();
  };
  std::vector<PersonalDataReads::Read> reads;
  const auto may_read = [&](const v1::FeatureGroup& group,
                            absl::Span<const std::string> personal) -> absl::Status {
    if (personal.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(personal_.Check(*context, *caller, group, personal));
    reads.push_back({group.spec().name(), {personal.begin(), personal.end()}});
    return absl::OkStatus();
  };
  absl::StatusOr<std::unique_ptr<features::TrainingSetBuild>> build =
      features::TrainingSetBuild::Start(*store_, request.spec(), caller->principal, send, may_read);
  if (!build.ok()) return ToGrpcStatus(build.status());
  // Logged, with the dataset's id, before any row is joined and sent.
  if (absl::Status logged =
          personal_.Record(*caller, "BuildTrainingSet", reads, 0, (*build)->dataset_id());
      !logged.ok()) {
    return ToGrpcStatus(logged);
  }
  if (request.spec().label().has_events()) {
    if (absl::Status added = (*build)->AddEvents(request.spec().label().events()); !added.ok()) {
      return ToGrpcStatus(added);
    }
  }
  while (stream->Read(&request)) {
    if (!request.has_label_events()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "after the spec, BuildTrainingSet takes only label_events messages");
    }
    if (absl::Status added = (*build)->AddEvents(request.label_events()); !added.ok()) {
      return ToGrpcStatus(added);
    }
  }
  absl::StatusOr<v1::Dataset> dataset = (*build)->Finish();
  if (!dataset.ok()) return ToGrpcStatus(dataset.status());
  v1::BuildTrainingSetResponse last;
  *last.mutable_summary() = *std::move(dataset);
  if (!stream->Write(last)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading");
  }
  return grpc::Status::OK;
}

grpc::Status FeatureStoreService::GetDataset(grpc::ServerContext* context,
                                             const v1::GetDatasetRequest* request,
                                             v1::Dataset* response) {
  return Guarded(access_, *context, "GetDataset", *request, [&](const server::Caller&) {
    return Answer(store_->lineage().GetDataset(request->dataset_id()), response);
  });
}

grpc::Status FeatureStoreService::ListDatasets(grpc::ServerContext* context,
                                               const v1::ListDatasetsRequest* request,
                                               v1::ListDatasetsResponse* response) {
  return Guarded(access_, *context, "ListDatasets", *request, [&](const server::Caller& caller) {
    const std::shared_ptr<const features::CatalogState> catalog = store_->catalog().Snapshot();
    // Datasets of one group: refused outright when the caller cannot see its squad.
    if (!request->group().empty()) {
      absl::StatusOr<std::string> owner = GroupOwner(*catalog, request->group());
      if (owner.ok() && !caller.Sees(*owner)) {
        return ToGrpcStatus(NotVisible(caller,
                                       absl::StrCat("feature group '", request->group(), "'"),
                                       Permission("ListDatasets"), *owner));
      }
    }
    return Answer(store_->lineage().ListDatasets(*request,
                                                 [&](const v1::Dataset& dataset) {
                                                   absl::StatusOr<std::string> owner =
                                                       DatasetOwner(*catalog, dataset);
                                                   return owner.ok() && caller.Sees(*owner);
                                                 }),
                  response);
  });
}

grpc::Status FeatureStoreService::RecordDatasetUsage(grpc::ServerContext* context,
                                                     const v1::RecordDatasetUsageRequest* request,
                                                     v1::RecordDatasetUsageResponse* response) {
  return Guarded(access_, *context, "RecordDatasetUsage", *request, [&](const server::Caller&) {
    return ToGrpcStatus(
        store_->lineage().RecordUsage(request->dataset_id(), request->model_version()));
  });
}

grpc::Status FeatureStoreService::GetFeatureGroupLineage(
    grpc::ServerContext* context, const v1::GetFeatureGroupLineageRequest* request,
    v1::FeatureGroupLineage* response) {
  // The guard finds the group's owner, so a group that does not exist is already NOT_FOUND.
  return Guarded(access_, *context, "GetFeatureGroupLineage", *request, [&](const server::Caller&) {
    return Answer(store_->lineage().GroupLineage(request->group()), response);
  });
}

grpc::Status FeatureStoreService::ClassifyFeatures(grpc::ServerContext* context,
                                                   const v1::ClassifyFeaturesRequest* request,
                                                   v1::FeatureGroup* response) {
  // The guard finds the group's owner, so a group that does not exist is already NOT_FOUND.
  return Guarded(
      access_, *context, "ClassifyFeatures", *request, [&](const server::Caller& caller) {
        return Answer(store_->catalog().ClassifyFeatures(*request, caller.principal), response);
      });
}

grpc::Status FeatureStoreService::GetPersonalDataLineage(
    grpc::ServerContext* context, const v1::GetPersonalDataLineageRequest* request,
    v1::PersonalDataLineage* response) {
  return Guarded(access_, *context, "GetPersonalDataLineage", *request, [&](const server::Caller&) {
    return Answer(
        features::PersonalDataLineageOf(*store_->catalog().Snapshot(), store_->lineage(), *request),
        response);
  });
}

grpc::Status FeatureStoreService::ListPersonalDataReads(
    grpc::ServerContext* context, const v1::ListPersonalDataReadsRequest* request,
    v1::ListPersonalDataReadsResponse* response) {
  return Guarded(access_, *context, "ListPersonalDataReads", *request, [&](const server::Caller&) {
    // Reads answered before this call are listed, even those the writer has not written yet.
    if (absl::Status flushed = store_->access_log().Flush(); !flushed.ok()) {
      return ToGrpcStatus(flushed);
    }
    return Answer(store_->access_log().List(*request), response);
  });
}

grpc::Status FeatureStoreService::VerifyPersonalDataReads(
    grpc::ServerContext* context, const v1::VerifyPersonalDataReadsRequest* request,
    v1::VerifyPersonalDataReadsResponse* response) {
  return Guarded(
      access_, *context, "VerifyPersonalDataReads", *request, [&](const server::Caller&) {
        if (absl::Status flushed = store_->access_log().Flush(); !flushed.ok()) {
          return ToGrpcStatus(flushed);
        }
        absl::StatusOr<core::HashChainResult> result =
            store_->access_log().Verify(request->start_sequence(), request->end_sequence());
        if (!result.ok()) return ToGrpcStatus(result.status());
        response->set_valid(result->valid);
        response->set_entries_checked(result->entries_checked);
        response->set_first_bad_sequence(result->first_bad_sequence);
        response->set_detail(result->detail);
        response->set_head_hash(result->head_hash);
        return grpc::Status::OK;
      });
}
}  // namespace fabrique::services
