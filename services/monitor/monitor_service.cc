#include "services/monitor/monitor_service.h"

#include <cstdint>
#include <iterator>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "libs/core/grpc_status.h"
#include "libs/monitoring/intake/intake_results.h"

namespace fabrique::services {
namespace {

// Adds a batch's refused rows to the response's errors, up to kMaxRowErrors over the stream.
void AddErrors(absl::string_view batch_id, const std::vector<monitoring::RowError>& errors,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const monitoring::RowError& error : errors) {
    if (static_cast<size_t>(out->size()) >= monitoring::kMaxRowErrors) return;
    out->Add(absl::StrCat("batch ", batch_id, ": row ", error.row, ": ", error.reason));
  }
}

// The failure of batch `index` of a stream, saying what is stored.
grpc::Status BatchFailed(int64_t index, absl::string_view batch_id, const absl::Status& status) {
  return core::ToGrpcStatus(absl::Status(
      status.code(), absl::StrCat("batch ", index, " (", batch_id.empty() ? "no id" : batch_id,
                                  ") refused, batches before it are stored: ", status.message())));
}

// A batch's rows moved out of their message (the intake reads contiguous spans).
template <typename T>
std::vector<T> Rows(google::protobuf::RepeatedPtrField<T>& rows) {
  return std::vector<T>(std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
}

template <typename Request>
absl::Status NeedsBatchId(const Request& request) {
  if (!request.batch_id().empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(Request::descriptor()->name(),
                                                 ".batch_id is required: it makes a retried "
                                                 "batch count once"));
}

// A batch of a thousand rows takes about a megabyte parsed: the arena's blocks grow to that
// in a few steps rather than in thousands of small ones.
const google::protobuf::ArenaOptions kBatchArena = [] {
  google::protobuf::ArenaOptions options;
  options.start_block_size = size_t{64} << 10;
  options.max_block_size = size_t{1} << 20;
  return options;
}();

}  // namespace

void MonitorService::UpdatePending() {
  absl::StatusOr<int64_t> pending = intake_->PendingOutcomes();
  if (pending.ok()) metrics_->SetPendingOutcomes(*pending);
}

grpc::Status MonitorService::LogPredictions(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::LogPredictionsRequest>* reader,
                                            v1::LogPredictionsResponse* response) {
  // The rule is platform-wide: who calls is checked before a batch is read.
  if (absl::StatusOr<server::Caller> caller =
          access_.Check(*context, "LogPredictions", v1::LogPredictionsRequest());
      !caller.ok()) {
    return core::ToGrpcStatus(caller.status());
  }
  // The stream answers once: its batches are fsynced together before the answer (or the
  // error that says the ones before it are stored), not one by one.
  const auto synced = [this](grpc::Status answer) {
    if (absl::Status sync = intake_->SyncLog(); !sync.ok()) return core::ToGrpcStatus(sync);
    return answer;
  };
  std::vector<const v1::PredictionRecord*> rows;
  bool joined = false;
  for (int64_t index = 0;; ++index) {
    // Each batch is parsed onto an arena, dropped whole once the batch is stored: a reused
    // message freed and allocated again every input's string and every entity map entry of
    // every row (malloc and free were a sixteenth of the monitor's CPU).
    google::protobuf::Arena arena(kBatchArena);
    auto& request = *google::protobuf::Arena::CreateMessage<v1::LogPredictionsRequest>(&arena);
    if (!reader->Read(&request)) break;
    if (absl::Status valid = NeedsBatchId(request); !valid.ok()) {
      return synced(BatchFailed(index, request.batch_id(), valid));
    }
    // The rows stay in the request, which lives until the batch is stored.
    rows.assign(request.predictions().pointer_begin(), request.predictions().pointer_end());
    absl::StatusOr<monitoring::PredictionIntakeResult> result =
        intake_->LogPredictions(request.batch_id(), rows, kv::SyncMode::kNoSync);
    if (!result.ok()) return synced(BatchFailed(index, request.batch_id(), result.status()));
    metrics_->RecordPredictions(*result);
    joined = joined || result->outcomes_joined > 0;
    response->set_accepted(response->accepted() + result->accepted);
    response->set_duplicates(response->duplicates() + result->duplicates);
    response->set_rejected(response->rejected() + result->rejected);
    response->set_unknown_version(response->unknown_version() + result->unknown_version);
    response->set_outcomes_joined(response->outcomes_joined() + result->outcomes_joined);
    AddErrors(request.batch_id(), result->errors, response->mutable_errors());
  }
  // Reading the pending family costs a scan: only when this call joined some of it.
  if (joined) UpdatePending();
  return synced(grpc::Status::OK);
}

grpc::Status MonitorService::LogOutcomes(grpc::ServerContext* context,
                                         grpc::ServerReader<v1::LogOutcomesRequest>* reader,
                                         v1::LogOutcomesResponse* response) {
  // The caller needs outcomes.log in some squad; each outcome is then kept to those squads.
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "LogOutcomes", v1::LogOutcomesRequest());
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  const MonitorIntake::MayLogOutcomesOf may_log = [&caller](absl::string_view squad) {
    return caller->Sees(squad);
  };
  v1::LogOutcomesRequest request;
  for (int64_t index = 0; reader->Read(&request); ++index) {
    if (absl::Status valid = NeedsBatchId(request); !valid.ok()) {
      return BatchFailed(index, request.batch_id(), valid);
    }
    absl::StatusOr<monitoring::OutcomeIntakeResult> result =
        intake_->LogOutcomes(request.batch_id(), Rows(*request.mutable_outcomes()), may_log);
    if (!result.ok()) return BatchFailed(index, request.batch_id(), result.status());
    metrics_->RecordOutcomes(*result);
    response->set_accepted(response->accepted() + result->accepted);
    response->set_matched(response->matched() + result->matched);
    response->set_pending(response->pending() + result->pending);
    response->set_duplicates(response->duplicates() + result->duplicates);
    response->set_rejected(response->rejected() + result->rejected);
    AddErrors(request.batch_id(), result->errors, response->mutable_errors());
  }
  UpdatePending();
  return grpc::Status::OK;
}

}  // namespace fabrique::services
