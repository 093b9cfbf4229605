// The feature store's adapter: ingest and history (online lookup is in feature_store_lookup.cc).

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
