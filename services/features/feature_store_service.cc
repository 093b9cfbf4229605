#include "services/features/feature_store_service.h"

#include <map>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"
#include "libs/core/grpc_status.h"
#include "libs/core/status_macros.h"
#include "libs/features/store/personal_lineage.h"
#include "libs/features/store/training_set_build.h"
#include "services/access_checks.h"
#include "services/features/feature_owners.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

// Copies `value` into `*out` and returns OK, or returns the error, mapped.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> value, T* out) {
  if (!value.ok()) return ToGrpcStatus(value.status());
  *out = *std::move(value);
  return grpc::Status::OK;
}

// The permission a method of this service needs, for messages.
std::string Permission(absl::string_view method) {
  return PermissionOf(v1::FeatureStore::service_full_name(), method);
}

}  // namespace

// LookupOnline's request and response on one protobuf Arena per call, recycled through a small
// pool. A 100 x 50 answer takes some 400 allocations (columns, refs, lists, strings); made one by
// one, glibc's malloc and free took a third of the server's CPU on one-entity lookups
// (tools/bench/features_lookup_bench --perf_dir). An arena frees them all at once, and a pooled
// arena keeps its first block, so a typical call allocates nothing. Thread-safe.
class LookupMessagePool final
    : public grpc::MessageAllocator<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
 public:
  ~LookupMessagePool() override {
    for (Holder* holder : free_) delete holder;
  }

  grpc::MessageHolder<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* AllocateMessages()
      override {
    Holder* holder = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        holder = free_.back();
        free_.pop_back();
      }
    }
    if (holder == nullptr) holder = new Holder(this);
    holder->CreateMessages();
    return holder;
  }

 private:
  // Holds a 100-entity x 50-float-feature exchange in its first block; larger ones add blocks,
  // freed when the holder comes back.
  static constexpr size_t kFirstBlockBytes = 64 << 10;
  // Holders kept for reuse: more than the calls in flight at once on a busy server.
  static constexpr size_t kMaxPooled = 64;

  class Holder final
      : public grpc::MessageHolder<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
   public:
    explicit Holder(LookupMessagePool* pool) : pool_(pool), arena_(ArenaOptionsFor(first_block_)) {}

    void CreateMessages() {
      set_request(google::protobuf::Arena::CreateMessage<v1::LookupOnlineRequest>(&arena_));
      set_response(google::protobuf::Arena::CreateMessage<v1::LookupOnlineResponse>(&arena_));
    }
    // gRPC calls this once the call is done with both messages.
    void Release() override {
      arena_.Reset();  // Frees every block but the first, which is ours.
      pool_->Return(this);
    }

   private:
    static google::protobuf::ArenaOptions ArenaOptionsFor(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kFirstBlockBytes;
      options.max_block_size = kFirstBlockBytes;
      return options;
    }

    LookupMessagePool* const pool_;
    alignas(16) char first_block_[kFirstBlockBytes];
    google::protobuf::Arena arena_;  // After first_block_, which it uses.
  };

  void Return(Holder* holder) {
    {
      absl::MutexLock lock(&mu_);
      if (free_.size() < kMaxPooled) {
        free_.push_back(holder);
        return;
      }
    }
    delete holder;
  }

  absl::Mutex mu_;
  std::vector<Holder*> free_ ABSL_GUARDED_BY(mu_);
};

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
  return Guarded(access_, *context, "ApplyFeatureGroup", *request,
                 [&](const server::Caller& caller) {
                   // Moving a group to another squad takes the permission in both.
                   absl::StatusOr<std::string> owner =
                       GroupOwner(*store_->catalog().Snapshot(), request->spec().name());
                   if (owner.ok() && *owner != request->spec().owner_squad()) {
                     const absl::Status leaving =
                         AlsoAllowed(access_, *context, Permission("ApplyFeatureGroup"), *owner);
                     if (!leaving.ok()) return ToGrpcStatus(leaving);
                   }
                   return Answer(store_->ApplyFeatureGroup(*request, caller.principal), response);
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

void FeatureStoreService::RecordIngest(const v1::IngestBatchResult& result) {
  if (result.duplicate()) return;
  rows_ingested_.Increment(static_cast<double>(result.rows_written()));
  for (const v1::RejectCount& count : result.reject_counts()) {
    rejects_.Add({{"reason", v1::RejectReason_Name(count.reason())}})
        .Increment(static_cast<double>(count.count()));
  }
}

grpc::Status FeatureStoreService::Ingest(grpc::ServerContext* context,
                                         grpc::ServerReader<v1::IngestRequest>* reader,
                                         v1::IngestResponse* response) {
  v1::IngestRequest request;
  std::map<v1::RejectReason, int64_t> reject_totals;
  // The call is the acknowledgement: batches are committed as they come and made durable
  // together, with one fsync, before it returns (whether it succeeds or fails on a batch).
  const auto durable = [this](grpc::Status status) {
    const absl::Status synced = store_->SyncIngested();
    if (!synced.ok()) {
      return ToGrpcStatus(core::WithContext(synced, "making the ingested batches durable"));
    }
    return status;
  };
  // Each batch is checked against its own group: a stream may not start in a group the caller
  // writes and go on in another squad's. A group allowed once is not checked again.
  std::set<std::string> allowed_groups;
  // Who calls is known before the first batch is read, so a stranger's upload is never parsed.
  if (absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(*context);
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  int64_t index = 0;
  for (; reader->Read(&request); ++index) {
    if (context->IsCancelled()) {
      return durable(grpc::Status(grpc::StatusCode::CANCELLED,
                                  absl::StrCat("ingest cancelled before batch ", index)));
    }
    absl::StatusOr<v1::IngestBatchResult> result =
        absl::InvalidArgumentError("IngestRequest.group is required");
    if (!request.group().empty()) {
      if (allowed_groups.count(request.group()) == 0) {
        absl::StatusOr<server::Caller> caller = access_.Check(*context, "Ingest", request);
        if (caller.ok())
          allowed_groups.insert(request.group());
        else
          result = caller.status();
      }
      if (allowed_groups.count(request.group()) > 0) {
        result = store_->Ingest(request, features::FeatureStore::IngestSync::kDeferred);
      }
    }
    if (!result.ok()) {
      // Batches before this one are committed; this one and any after it are not.
      return durable(ToGrpcStatus(absl::Status(
          result.status().code(),
          absl::StrCat(
              "batch ", index, " (", request.batch_id().empty() ? "no id" : request.batch_id(),
              ") refused, batches before it are committed: ", result.status().message()))));
    }
    result->set_batch_index(index);
    RecordIngest(*result);
    response->set_rows_written(response->rows_written() + result->rows_written());
    response->set_rows_rejected(response->rows_rejected() + result->rows_rejected());
    for (const v1::RejectCount& count : result->reject_counts()) {
      reject_totals[count.reason()] += count.count();
    }
    *response->add_batches() = *std::move(result);
  }
  // A stream without a batch writes nothing, but still only for a known caller.
  if (index == 0) {
    if (absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(*context);
        !who.ok()) {
      return ToGrpcStatus(who.status());
    }
  }
  for (const auto& [reason, count] : reject_totals) {
    v1::RejectCount* total = response->add_reject_counts();
    total->set_reason(reason);
    total->set_count(count);
  }
  return durable(grpc::Status::OK);
}

grpc::ServerUnaryReactor* FeatureStoreService::LookupOnline(grpc::CallbackServerContext* context,
                                                            const v1::LookupOnlineRequest* request,
                                                            v1::LookupOnlineResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "LookupOnline", *request);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (request->features_size() == 0) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     "LookupOnlineRequest.features is empty: name at least one group:feature"));
    return reactor;
  }
  using Reads = std::vector<PersonalDataReads::Read>;
  // A lookup that read personal data is answered only once it is counted and logged.
  const auto finish = [this, response, reactor](const server::Caller& who, const Reads& reads,
                                                absl::Status status) {
    if (status.ok()) {
      status = personal_.Record(who, "LookupOnline", reads, response->row_count(), "");
    }
    if (status.ok()) keys_looked_up_.Increment(static_cast<double>(response->row_count()));
    reactor->Finish(ToGrpcStatus(status));
  };
  // Every group read must be owned by a squad the caller reads in, and its personal features
  // need features.personal.read there too; judged on the definitions the lookup resolves
  // anyway, so it costs no read of the store (and a group without personal features costs one
  // emptiness test more than before).
  const auto may_read = [this, context](const server::Caller& who, Reads* reads) {
    return [this, context, &who, reads](const v1::FeatureGroup& group,
                                        absl::Span<const std::string> personal) -> absl::Status {
      if (!who.Sees(group.spec().owner_squad())) {
        return NotVisible(who, absl::StrCat("feature group '", group.spec().name(), "'"),
                          Permission("LookupOnline"), group.spec().owner_squad());
      }
      if (personal.empty()) return absl::OkStatus();
      if (absl::Status allowed = personal_.Check(*context, who, group, personal); !allowed.ok()) {
        return allowed;
      }
      reads->push_back({group.spec().name(), {personal.begin(), personal.end()}});
      return absl::OkStatus();
    };
  };
  // First from memory, on this thread: a hot set held in the memtables and block cache is
  // answered without a hand-off to another thread (its queueing and wake-up were most of a
  // one-entity lookup's tail). Only a lookup that needs the disk goes to the executor, so no
  // gRPC thread ever waits for a read.
  Reads reads;
  const absl::Status in_memory =
      store_->LookupOnline(*request, response, /*memory_only=*/true, may_read(*caller, &reads));
  if (!kv::IsNotInMemory(in_memory)) {
    finish(*caller, reads, in_memory);
    return reactor;
  }
  // The request, response, context and reactor live until Finish, so the task may use them.
  const absl::Status scheduled =
      lookups_->Schedule([this, request, response, finish, may_read, who = *std::move(caller)] {
        Reads reads;
        const absl::Status read =
            store_->LookupOnline(*request, response, /*memory_only=*/false, may_read(who, &reads));
        finish(who, reads, read);
      });
  if (!scheduled.ok()) reactor->Finish(ToGrpcStatus(scheduled));
  return reactor;
}

grpc::Status FeatureStoreService::ReadHistory(grpc::ServerContext* context,
                                              const v1::ReadHistoryRequest* request,
                                              grpc::ServerWriter<v1::ReadHistoryResponse>* writer) {
  return Guarded(access_, *context, "ReadHistory", *request, [&](const server::Caller& caller) {
    // Personal features are checked, counted and logged before any row leaves.
    const auto may_read = [&](const v1::FeatureGroup& group,
                              absl::Span<const std::string> personal) -> absl::Status {
      if (personal.empty()) return absl::OkStatus();
      RETURN_IF_ERROR(personal_.Check(*context, caller, group, personal));
      return personal_.Record(caller, "ReadHistory",
                              {{group.spec().name(), {personal.begin(), personal.end()}}},
                              request->entity_keys_size(), "");
    };
    return ToGrpcStatus(store_->ReadHistory(
        *request,
        [&](v1::ReadHistoryResponse* chunk) -> absl::Status {
          if (context->IsCancelled()) return absl::CancelledError("the client went away");
          if (!writer->Write(*chunk)) return absl::CancelledError("the client stopped reading");
          return absl::OkStatus();
        },
        may_read));
  });
}

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
