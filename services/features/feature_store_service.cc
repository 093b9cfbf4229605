// The feature store's adapter: construction, the checks its calls share, and the catalog
// (entities, feature groups, features). Data (ingest, lookup, history) and datasets (training
// sets, lineage, personal data) are in the files named after them.

#include "services/features/feature_store_service.h"

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
#include "services/features/lookup_message_pool.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

}  // namespace

FeatureStoreService::FeatureStoreService(features::FeatureStore* store, core::Executor* lookups,
                                         server::ServiceAccess access,
                                         prometheus::Registry& metrics)
    : store_(store),
      lookups_(lookups),
      access_(std::move(access)),
      personal_(&access_, &store->access_log(), metrics),
      rows_ingested_(prometheus::BuildCounter()
                         .Name("fabrique_features_ingest_rows_total")
                         .Help("Rows written by ingest (history and online).")
                         .Register(metrics)
                         .Add({})),
      rejects_(prometheus::BuildCounter()
                   .Name("fabrique_features_ingest_rejects_total")
                   .Help("Rows refused by ingest, by reason.")
                   .Register(metrics)),
      expression_warnings_(
          prometheus::BuildCounter()
              .Name("fabrique_features_expression_warnings_total")
              .Help("Derived values that came out null at ingest (division by zero, log1p of a "
                    "value <= -1), by group, feature and kind.")
              .Register(metrics)),
      keys_looked_up_(prometheus::BuildCounter()
                          .Name("fabrique_features_lookup_keys_total")
                          .Help("Entity rows read by online lookups.")
                          .Register(metrics)
                          .Add({})),
      lookup_messages_(std::make_unique<LookupMessagePool>()) {
  SetMessageAllocatorFor_LookupOnline(lookup_messages_.get());
}

// Runs once the server has shut down (it drains first), so every holder is back in the pool.
FeatureStoreService::~FeatureStoreService() = default;

std::string FeatureStoreService::Permission(absl::string_view method) {
  return PermissionOf(v1::FeatureStore::service_full_name(), method);
}

absl::Status FeatureStoreService::CheckListedSquad(const server::Caller& caller,
                                                   const std::string& squad, const char* method) {
  if (squad.empty() || caller.Sees(squad)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(caller.principal.subject(), " lacks ",
                                                  Permission(method), " in squad ", squad,
                                                  ", so it may not list what that squad owns"));
}

absl::Status FeatureStoreService::CheckSpecGroups(const server::Caller& caller,
                                                  const v1::TrainingSetSpec& spec) {
  const std::shared_ptr<const features::CatalogState> catalog = store_->catalog().Snapshot();
  std::vector<const v1::FeatureRef*> refs;
  for (const v1::FeatureRef& ref : spec.features()) refs.push_back(&ref);
  if (spec.label().has_feature()) refs.push_back(&spec.label().feature());
  std::set<std::string> checked;
  for (const v1::FeatureRef* ref : refs) {
    if (!checked.insert(ref->group()).second) continue;
    absl::StatusOr<std::string> owner = GroupOwner(*catalog, ref->group());
    // An unknown group is the build's to name (NOT_FOUND, with the feature).
    if (!owner.ok() || caller.Sees(*owner)) continue;
    return NotVisible(caller, absl::StrCat("feature group '", ref->group(), "'"),
                      Permission("BuildTrainingSet"), *owner);
  }
  return absl::OkStatus();
}

grpc::Status FeatureStoreService::ApplyEntity(grpc::ServerContext* context,
                                              const v1::ApplyEntityRequest* request,
                                              v1::Entity* response) {
  return Guarded(access_, *context, "ApplyEntity", *request, [&](const server::Caller&) {
    // Moving an entity to another squad takes the permission in the squad it leaves as well.
    absl::StatusOr<v1::Entity> current = store_->catalog().GetEntity(request->entity().name());
    if (current.ok() && current->owner_squad() != request->entity().owner_squad()) {
      const absl::Status leaving =
          AlsoAllowed(access_, *context, Permission("ApplyEntity"), current->owner_squad());
      if (!leaving.ok()) return ToGrpcStatus(leaving);
    }
    return Answer(store_->catalog().ApplyEntity(request->entity()), response);
  });
}

grpc::Status FeatureStoreService::GetEntity(grpc::ServerContext* context,
                                            const v1::GetEntityRequest* request,
                                            v1::Entity* response) {
  return Guarded(access_, *context, "GetEntity", *request, [&](const server::Caller&) {
    return Answer(store_->catalog().GetEntity(request->name()), response);
  });
}

grpc::Status FeatureStoreService::ListEntities(grpc::ServerContext* context,
                                               const v1::ListEntitiesRequest* request,
                                               v1::ListEntitiesResponse* response) {
  return Guarded(access_, *context, "ListEntities", *request, [&](const server::Caller& caller) {
    return Answer(store_->catalog().ListEntities(
                      *request, [&](absl::string_view squad) { return caller.Sees(squad); }),
                  response);
  });
}

grpc::Status FeatureStoreService::ApplyFeatureGroup(grpc::ServerContext* context,
                                                    const v1::ApplyFeatureGroupRequest* request,
                                                    v1::ApplyFeatureGroupResponse* response) {
  return ApplyWithProgress(context, "ApplyFeatureGroup", *request, nullptr, response);
}

grpc::Status FeatureStoreService::ApplyFeatureGroupWithProgress(
    grpc::ServerContext* context, const v1::ApplyFeatureGroupRequest* request,
    grpc::ServerWriter<v1::ApplyFeatureGroupProgress>* writer) {
  v1::ApplyFeatureGroupProgress message;
  const grpc::Status status = ApplyWithProgress(
      context, "ApplyFeatureGroupWithProgress", *request,
      [&](const v1::AggregationBackfillProgress& progress) {
        v1::ApplyFeatureGroupProgress update;
        *update.mutable_backfill() = progress;
        writer->Write(update);  // A client gone away only misses progress; the apply goes on.
      },
      message.mutable_done());
  if (!status.ok()) return status;
  writer->Write(message);
  return grpc::Status::OK;
}

grpc::Status FeatureStoreService::ApplyWithProgress(grpc::ServerContext* context,
                                                    absl::string_view method,
                                                    const v1::ApplyFeatureGroupRequest& request,
                                                    const features::BackfillProgress& progress,
                                                    v1::ApplyFeatureGroupResponse* response) {
  return Guarded(
      access_, *context, std::string(method), request, [&](const server::Caller& caller) {
        // Moving a group to another squad takes the permission in both.
        absl::StatusOr<std::string> owner =
            GroupOwner(*store_->catalog().Snapshot(), request.spec().name());
        if (owner.ok() && *owner != request.spec().owner_squad()) {
          const absl::Status leaving =
              AlsoAllowed(access_, *context, Permission("ApplyFeatureGroup"), *owner);
          if (!leaving.ok()) return ToGrpcStatus(leaving);
        }
        return Answer(store_->ApplyFeatureGroup(request, caller.principal, progress), response);
      });
}

grpc::Status FeatureStoreService::GetFeatureGroup(grpc::ServerContext* context,
                                                  const v1::GetFeatureGroupRequest* request,
                                                  v1::FeatureGroup* response) {
  return Guarded(access_, *context, "GetFeatureGroup", *request, [&](const server::Caller&) {
    return Answer(store_->catalog().GetFeatureGroup(request->name(), request->schema_version()),
                  response);
  });
}

grpc::Status FeatureStoreService::ListFeatureGroups(grpc::ServerContext* context,
                                                    const v1::ListFeatureGroupsRequest* request,
                                                    v1::ListFeatureGroupsResponse* response) {
  return Guarded(
      access_, *context, "ListFeatureGroups", *request, [&](const server::Caller& caller) {
        if (absl::Status seen =
                CheckListedSquad(caller, request->owner_squad(), "ListFeatureGroups");
            !seen.ok()) {
          return ToGrpcStatus(seen);
        }
        return Answer(store_->catalog().ListFeatureGroups(
                          *request, [&](absl::string_view squad) { return caller.Sees(squad); }),
                      response);
      });
}

grpc::Status FeatureStoreService::ListFeatures(grpc::ServerContext* context,
                                               const v1::ListFeaturesRequest* request,
                                               v1::ListFeaturesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListFeatures", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status seen = CheckListedSquad(*caller, request->owner_squad(), "ListFeatures");
      !seen.ok()) {
    return ToGrpcStatus(seen);
  }
  absl::StatusOr<v1::ListFeaturesResponse> listed = store_->catalog().ListFeatures(
      *request, [&](absl::string_view squad) { return caller->Sees(squad); });
  if (!listed.ok()) return ToGrpcStatus(listed.status());
  // The catalog knows features; lineage knows which models use them (one query per group).
  std::map<std::string, v1::FeatureGroupLineage> lineages;
  for (v1::CatalogEntry& entry : *listed->mutable_entries()) {
    const std::string& group = entry.ref().group();
    auto it = lineages.find(group);
    if (it == lineages.end()) {
      absl::StatusOr<v1::FeatureGroupLineage> lineage = store_->lineage().GroupLineage(group);
      if (!lineage.ok()) return ToGrpcStatus(lineage.status());
      it = lineages.emplace(group, *std::move(lineage)).first;
    }
    std::set<std::string> models;
    for (const v1::ModelDependency& model : it->second.models()) {
      for (const v1::VersionedFeatureRef& used : model.features()) {
        if (used.ref().feature() == entry.ref().feature()) {
          models.insert(model.model_version().model());
        }
      }
    }
    for (const std::string& model : models) entry.add_used_by_models(model);
  }
  *response = *std::move(listed);
  return grpc::Status::OK;
}
}  // namespace fabrique::services
