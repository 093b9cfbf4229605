#include "services/trainer/trainer_service.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/auth/method_table.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/grpc_status.h"
#include "services/answer.h"
#include "services/trainer/submit_squad.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

// What is left of the caller's deadline; infinite when it set none.
absl::Duration TimeLeft(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteDuration();
  return absl::FromChrono(deadline) - absl::Now();
}

// The owner of a run is the squad it trains for. A run recorded before runs had squads is the
// platform's ("*"): only those holding the permission in every squad reach it. NOT_FOUND for an
// unknown run, as GetRun says.
auth::OwnerLookup RunOwners(const training::RunStore* runs) {
  return [runs](absl::string_view resource, absl::string_view name) -> absl::StatusOr<std::string> {
    if (resource != auth::kRun) {
      return absl::InternalError(absl::StrCat("the trainer owns no ", resource, " '", name, "'"));
    }
    absl::StatusOr<v1::Run> run = runs->Get(std::string(name));
    if (!run.ok()) return run.status();
    if (run->squad().empty()) return std::string(auth::kAllSquads);
    return run->squad();
  };
}

}  // namespace

TrainerService::TrainerService(training::RunQueue* queue, const training::RunStore* runs,
                               const server::Access* guard)
    : queue_(queue),
      runs_(runs),
      guard_(guard),
      access_(guard, v1::Trainer::service_full_name(), RunOwners(runs)) {}

grpc::Status TrainerService::SubmitRun(grpc::ServerContext* context,
                                       const v1::SubmitRunRequest* request, v1::Run* response) {
  // The squad is settled first, so that the guard checks runs.submit in the one the run gets.
  absl::StatusOr<std::string> squad = SubmitSquad(*guard_, *context, request->squad());
  if (!squad.ok()) return ToGrpcStatus(squad.status());
  v1::SubmitRunRequest submission = *request;
  submission.set_squad(*std::move(squad));
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SubmitRun", submission);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(queue_->Submit(submission, caller->principal, TimeLeft(*context)), response);
}

grpc::Status TrainerService::GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                                    v1::Run* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetRun", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(runs_->Get(request->run_id()), response);
}

grpc::Status TrainerService::ListRuns(grpc::ServerContext* context,
                                      const v1::ListRunsRequest* request,
                                      v1::ListRunsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListRuns", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(
      runs_->List(*request, [&caller](const std::string& squad) { return caller->Sees(squad); }),
      response);
}

grpc::Status TrainerService::CancelRun(grpc::ServerContext* context,
                                       const v1::CancelRunRequest* request, v1::Run* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CancelRun", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Answer(queue_->Cancel(request->run_id(), caller->principal, request->reason()), response);
}

grpc::Status TrainerService::WatchRun(grpc::ServerContext* context,
                                      const v1::WatchRunRequest* request,
                                      grpc::ServerWriter<v1::RunEvent>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "WatchRun", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return ToGrpcStatus(queue_->Watch(
      request->run_id(), request->after_sequence(),
      [writer](const v1::RunEvent& event) { return writer->Write(event); },
      [context] { return context->IsCancelled(); }));
}

}  // namespace fabrique::services
