#include "services/trainer/trainer_service.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/core/grpc_status.h"
#include "libs/server/caller.h"

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

grpc::Status Required(const std::string& value, absl::string_view field) {
  if (!value.empty()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat(field, " is required"));
}

// What is left of the caller's deadline; infinite when it set none.
absl::Duration TimeLeft(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteDuration();
  return absl::FromChrono(deadline) - absl::Now();
}

}  // namespace

grpc::Status TrainerService::SubmitRun(grpc::ServerContext* context,
                                       const v1::SubmitRunRequest* request, v1::Run* response) {
  return Answer(queue_->Submit(*request, server::CallerOf(*context), TimeLeft(*context)), response);
}

grpc::Status TrainerService::GetRun(grpc::ServerContext*, const v1::GetRunRequest* request,
                                    v1::Run* response) {
  if (auto s = Required(request->run_id(), "GetRunRequest.run_id"); !s.ok()) return s;
  return Answer(runs_->Get(request->run_id()), response);
}

grpc::Status TrainerService::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* request,
                                      v1::ListRunsResponse* response) {
  return Answer(runs_->List(*request), response);
}

grpc::Status TrainerService::CancelRun(grpc::ServerContext* context,
                                       const v1::CancelRunRequest* request, v1::Run* response) {
  if (auto s = Required(request->run_id(), "CancelRunRequest.run_id"); !s.ok()) return s;
  return Answer(queue_->Cancel(request->run_id(), server::CallerOf(*context), request->reason()),
                response);
}

grpc::Status TrainerService::WatchRun(grpc::ServerContext* context,
                                      const v1::WatchRunRequest* request,
                                      grpc::ServerWriter<v1::RunEvent>* writer) {
  if (auto s = Required(request->run_id(), "WatchRunRequest.run_id"); !s.ok()) return s;
  return ToGrpcStatus(queue_->Watch(
      request->run_id(), request->after_sequence(),
      [writer](const v1::RunEvent& event) { return writer->Write(event); },
      [context] { return context->IsCancelled(); }));
}

}  // namespace fabrique::services
