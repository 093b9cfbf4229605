#include "services/inference/registry_client_port.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/client_callback.h"

namespace fabrique::services {
namespace {

// The watch stream on gRPC's callback API, its events handed to the follower's thread one at a
// time. A blocking read would park that thread inside gRPC's polling for the server's whole life,
// where it takes its turn reading every socket: a profile of entity Predict found it reading the
// server's requests and lookup answers and waking gRPC's threads to handle them, one more
// thread hand-off for the calls it read. Here the thread waits on a mutex instead.
class WatchStream final : public grpc::ClientReadReactor<v1::WatchEvent> {
 public:
  // Starts the stream on `context`, which must outlive it (as must `request`). Destroy it only
  // once Finish has returned: gRPC is then done with it, and every reference to the channel is
  // dropped on the caller's thread (a channel's last one dropped on one of gRPC's threads aborts
  // the process: its shutdown joins that very thread).
  WatchStream(client::RegistryClient::Stub* stub, grpc::ClientContext* context,
              const v1::WatchRequest& request)
      : context_(context) {
    stub->async()->Watch(context, &request, this);
    StartRead(&event_);
    // Held while the follower may start reads from outside gRPC's reactions.
    AddHold();
    StartCall();
  }

  // Waits for the next event: true with it in `event`; false once the stream has ended (then
  // call Finish).
  bool Next(v1::WatchEvent* event) {
    bool ok = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&read_done_));
      read_done_ = false;
      ok = read_ok_;
      if (ok) event->Swap(&event_);
    }
    if (!ok) {
      Release();
      return false;
    }
    StartRead(&event_);
    return true;
  }

  // Stops reading: the stream ends with CANCELLED.
  void Cancel() {
    context_->TryCancel();
    Release();
  }

  // Waits for the stream to end; its status.
  grpc::Status Finish() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    read_ok_ = ok;
    read_done_ = true;
  }
  // gRPC's last touch of the stream: nothing after the notice that Finish waits for (absl's mutex
  // may be destroyed by the thread that saw it, as Finish's caller does).
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  // Lets gRPC end the call: no read will be started from outside its reactions. Once only, on
  // the follower's thread, without the mutex (the call may end, and OnDone run, right here).
  void Release() {
    if (!held_) return;
    held_ = false;
    RemoveHold();
  }

  grpc::ClientContext* const context_;
  v1::WatchEvent event_;  // The read in flight writes here.
  absl::Mutex mu_;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ = true;  // The follower's thread only.
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

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
  WatchStream stream(client_.stub(), context->get(), request);
  v1::WatchEvent event;
  absl::Status handled = absl::OkStatus();
  while (handled.ok() && stream.Next(&event)) handled = on_event(event);
  if (!handled.ok()) stream.Cancel();
  const absl::Status finished = client_.Error(stream.Finish(), "Watch");
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
