#include "services/inference/monitor_client_port.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

MonitorClientPort::MonitorClientPort(std::shared_ptr<grpc::Channel> channel,
                                     const std::string& target)
    : client_(std::move(channel), {"monitor", target}, client::CallContext{}) {}

absl::StatusOr<v1::LogPredictionsResponse> MonitorClientPort::Send(
    const v1::LogPredictionsRequest& request, absl::Time deadline) {
  client::CallContext call = client_.context();
  call.deadline = deadline;
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = call.NewClientContext();
  if (!context.ok()) return context.status();
  v1::LogPredictionsResponse response;
  auto writer = client_.stub()->LogPredictions(context->get(), &response);
  // A failed write means the stream broke; Finish says why.
  if (writer->Write(request)) writer->WritesDone();
  const absl::Status status =
      client_.Error(writer->Finish(), absl::StrCat("LogPredictions ", request.batch_id()));
  if (!status.ok()) return status;
  return response;
}

}  // namespace fabrique::services
