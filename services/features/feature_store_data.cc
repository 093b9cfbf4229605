// The feature store's adapter: ingest, online lookup and history.

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

void FeatureStoreService::RecordIngest(const std::string& group,
                                       const v1::IngestBatchResult& result) {
  if (result.duplicate()) return;
  rows_ingested_.Increment(static_cast<double>(result.rows_written()));
  for (const v1::RejectCount& count : result.reject_counts()) {
    rejects_.Add({{"reason", v1::RejectReason_Name(count.reason())}})
        .Increment(static_cast<double>(count.count()));
  }
  for (const v1::IngestWarning& warning : result.warnings()) {
    expression_warnings_
        .Add({{"group", group}, {"feature", warning.feature()}, {"kind", warning.kind()}})
        .Increment(static_cast<double>(warning.count()));
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
    RecordIngest(request.group(), *result);
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
}  // namespace fabrique::services
