#include "services/inference/registry_client_port.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

absl::StatusOr<std::unique_ptr<RegistryClientPort>> RegistryClientPort::Create(
    RegistryClientPortOptions options) {
  if (options.channel == nullptr) {
    return absl::InvalidArgumentError("the registry port needs a channel to the registry");
  }
  client::CallContext context;
  context.timeout = options.call_timeout;
  client::RegistryClient registry(options.channel, {"registry", options.target}, context);
  return std::unique_ptr<RegistryClientPort>(
      new RegistryClientPort(std::move(options), std::move(registry)));
}

RegistryClientPort::RegistryClientPort(RegistryClientPortOptions options,
                                       client::RegistryClient client)
    : options_(std::move(options)), client_(std::move(client)) {}

absl::StatusOr<std::shared_ptr<grpc::ClientContext>> RegistryClientPort::Open(
    absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> made = client_.NewContext(timeout);
  if (!made.ok()) return made.status();
  std::shared_ptr<grpc::ClientContext> context = *std::move(made);
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::CancelledError("the inference server is stopping");
  open_.push_back(context);
  return context;
}

void RegistryClientPort::Close(const std::shared_ptr<grpc::ClientContext>& context) {
  absl::MutexLock lock(&mu_);
  open_.erase(std::remove(open_.begin(), open_.end(), context), open_.end());
}

absl::Status RegistryClientPort::Watch(
    const v1::WatchRequest& request,
    const std::function<absl::Status(const v1::WatchEvent&)>& on_event) {
  // The stream lives as long as the server: no deadline, ended by Shutdown or the registry.
  absl::StatusOr<std::shared_ptr<grpc::ClientContext>> context = Open(absl::InfiniteDuration());
  if (!context.ok()) return context.status();
  auto reader = client_.stub()->Watch(context->get(), request);
  v1::WatchEvent event;
  absl::Status handled = absl::OkStatus();
  while (handled.ok() && reader->Read(&event)) handled = on_event(event);
  if (!handled.ok()) (*context)->TryCancel();
  const absl::Status finished = client_.Error(reader->Finish(), "Watch");
  Close(*context);
  return handled.ok() ? finished : handled;
}

absl::StatusOr<v1::Model> RegistryClientPort::GetModel(const std::string& name) {
  v1::GetModelRequest request;
  request.set_name(name);
  return client_.Call(&client::RegistryClient::Stub::GetModel, request,
                      absl::StrCat("GetModel ", name));
}

absl::StatusOr<v1::ModelVersion> RegistryClientPort::GetVersion(const v1::ModelVersionRef& ref) {
  v1::GetVersionRequest request;
  request.mutable_ref()->set_model(ref.model());
  request.mutable_ref()->set_version(ref.version());
  return client_.Call(&client::RegistryClient::Stub::GetVersion, request,
                      absl::StrCat("GetVersion ", ref.model(), ":", ref.version()));
}

absl::StatusOr<v1::TrafficPolicy> RegistryClientPort::GetTrafficPolicy(const std::string& model) {
  v1::GetTrafficPolicyRequest request;
  request.set_model(model);
  return client_.Call(&client::RegistryClient::Stub::GetTrafficPolicy, request,
                      absl::StrCat("GetTrafficPolicy ", model));
}

absl::StatusOr<v1::ModelVersion> RegistryClientPort::AppendEvaluation(
    const v1::ModelVersionRef& ref, const v1::VersionEvaluation& evaluation) {
  v1::AppendEvaluationRequest request;
  *request.mutable_version() = ref;
  *request.mutable_evaluation() = evaluation;
  return client_.Call(&client::RegistryClient::Stub::AppendEvaluation, request,
                      absl::StrCat("AppendEvaluation ", ref.model(), ":", ref.version()));
}

absl::Status RegistryClientPort::Download(
    const std::string& sha256, int64_t offset,
    const std::function<absl::Status(absl::string_view)>& write) {
  absl::StatusOr<std::shared_ptr<grpc::ClientContext>> context = Open(options_.download_timeout);
  if (!context.ok()) return context.status();
  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  request.set_offset(offset);
  auto reader = client_.stub()->DownloadArtifact(context->get(), request);
  v1::DownloadArtifactResponse chunk;
  absl::Status written = absl::OkStatus();
  while (written.ok() && reader->Read(&chunk)) written = write(chunk.chunk());
  if (!written.ok()) (*context)->TryCancel();
  const absl::Status finished =
      client_.Error(reader->Finish(), absl::StrCat("DownloadArtifact ", sha256));
  Close(*context);
  return written.ok() ? finished : written;
}

void RegistryClientPort::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (const std::shared_ptr<grpc::ClientContext>& context : open_) context->TryCancel();
}

}  // namespace fabrique::services
