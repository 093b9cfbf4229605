// The feature store's adapter: history (ingest is in feature_store_ingest.cc, online lookup in
// feature_store_lookup.cc).

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
