#include "services/inference/feature_stream_port.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/alarm.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"

namespace fabrique::services {
namespace {

constexpr char kCall[] = "LookupOnlineStream";

// How long closing streams may take to end before they are cancelled.
constexpr absl::Duration kCloseWait = absl::Seconds(2);

// The store's message without the stream's "after N answered requests: " prefix: the lookup that
// failed is the caller's, whatever the stream carried before it.
std::string LookupMessage(const std::string& message) {
  constexpr absl::string_view kAfter = "after ";
  constexpr absl::string_view kAnswered = " answered requests: ";
  if (!absl::StartsWith(message, kAfter)) return message;
  const size_t end = absl::string_view(message).find(kAnswered);
  int64_t count = 0;
  if (end == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(message).substr(kAfter.size(), end - kAfter.size()),
                        &count)) {
    return message;
  }
  return message.substr(end + kAnswered.size());
}

}  // namespace

// One LookupOnlineStream call, carrying one lookup at a time. Holds itself (self_) from Open to
// OnDone, so a lookup's timer can tell whether it still lives.
//
// gRPC may run a reaction, OnDone included, inline at the end of the call that started an
// operation. So the stream keeps a hold (AddHold) from Open until it is closed or a lookup finds
// it broken: OnDone never runs while it sits idle or while a lookup is being started on it. A
// stream the store dropped while it was idle is found out by the next lookup sent on it, whose
// read fails; that lookup is sent again on a new stream (FeatureStreamPort::Send).
class FeatureStreamPort::Stream final
    : public grpc::ClientBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse>,
      public std::enable_shared_from_this<Stream> {
 public:
  Stream(FeatureStreamPort* port, std::unique_ptr<grpc::ClientContext> context)
      : port_(port), context_(std::move(context)) {}

  // The call's context holds a reference to the channel. It is released here, before the port
  // hears that the stream is gone: once every stream is gone the port's owner may drop the
  // channel, and a channel's last reference must never be dropped on one of gRPC's callback
  // threads (which is where a stream usually dies, in OnDone): its shutdown there joins that
  // very thread and aborts the process.
  ~Stream() override {
    {
      absl::MutexLock lock(&mu_);
      alarm_.reset();
    }
    context_.reset();
    port_->Gone(this);
  }

  void Open() {
    self_ = shared_from_this();
    port_->client_.stub()->async()->LookupOnlineStream(context_.get(), this);
    AddHold();  // Released by Release(): on Close, or when a lookup finds the stream broken.
    StartCall();
  }

  // Sends `request` (valid until `done` is called); `reused` when the stream answered before.
  void Send(const v1::LookupOnlineRequest& request, absl::Time deadline, Done done, bool reused) {
    {
      absl::MutexLock lock(&mu_);
      done_ = std::move(done);
      request_ = &request;
      deadline_ = deadline;
      retry_ = reused;
      expired_ = false;
      ops_ = 2;
      const int64_t generation = ++generation_;
      if (deadline != absl::InfiniteFuture()) {
        alarm_ = std::make_unique<grpc::Alarm>();
        alarm_->Set(absl::ToChronoTime(deadline),
                    [weak = weak_from_this(), generation](bool fired) {
                      if (!fired) return;
                      if (std::shared_ptr<Stream> stream = weak.lock()) stream->Expire(generation);
                    });
      }
    }
    // Held while both are started: a read failing at once must not let OnDone run before the
    // write is started.
    AddHold();
    StartRead(&response_);
    StartWrite(&request);
    RemoveHold();
  }

  // Ends the call at once, whatever it is doing.
  void Cancel() { context_->TryCancel(); }

  // Ends an idle stream.
  void Close() {
    StartWritesDone();
    Release();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Release();  // The call ended: OnDone answers.
    Step();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Release();  // The call ended: OnDone answers.
    Done done;
    {
      absl::MutexLock lock(&mu_);
      answer_ = std::move(response_);
      response_.Clear();
      done = std::move(done_);
      done_ = nullptr;
      ++generation_;  // The timer, if it fires now, finds nothing to cancel.
      alarm_.reset();
    }
    Step(std::move(done));
  }

  void OnDone(const grpc::Status& status) override {
    Done done;
    const v1::LookupOnlineRequest* request = nullptr;
    absl::Time deadline;
    bool expired = false;
    bool retry = false;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(done_);
      done_ = nullptr;
      request = request_;
      deadline = deadline_;
      expired = expired_;
      retry = retry_;
      alarm_.reset();
    }
    port_->Ended(this);
    if (done) {
      if (expired) {
        done(absl::DeadlineExceededError(
            absl::StrCat("the feature lookup was not answered by its deadline (", kCall, " to ",
                         port_->options_.target, ")")));
      } else if (retry && (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::CANCELLED)) {
        // The stream ended under this lookup before answering any of it (the store dropped it
        // while it sat idle): a new stream may reach the store again.
        port_->Send(*request, deadline, std::move(done), /*may_retry=*/false);
      } else {
        done(port_->Failure(status));
      }
    }
    std::shared_ptr<Stream> self = std::move(self_);  // May destroy this stream: last.
  }

 private:
  // One of the lookup's write and read has completed; after both the stream is idle again. With
  // the read's `done`: the answer is handed on, after the stream is back in the pool when it is
  // idle already, so the next lookup (which the caller may start while handling this answer)
  // takes this stream rather than opening another.
  void Step(Done done = nullptr) {
    bool idle = false;
    {
      absl::MutexLock lock(&mu_);
      idle = --ops_ == 0;
    }
    if (!done) {
      if (idle) port_->Idle(self_);
      return;
    }
    v1::LookupOnlineResponse answer = std::move(answer_);
    if (idle) port_->Idle(self_);
    done(std::move(answer));
  }

  // Lets OnDone run once the operations in flight have reported; once per stream.
  void Release() {
    {
      absl::MutexLock lock(&mu_);
      if (released_) return;
      released_ = true;
    }
    RemoveHold();
  }

  void Expire(int64_t generation) {
    {
      absl::MutexLock lock(&mu_);
      if (generation != generation_ || !done_) return;
      expired_ = true;
    }
    context_->TryCancel();
  }

  FeatureStreamPort* const port_;
  std::unique_ptr<grpc::ClientContext> context_;  // Reset only by the destructor.
  std::shared_ptr<Stream> self_;
  v1::LookupOnlineResponse response_;  // Read into; moved to answer_ when complete.
  v1::LookupOnlineResponse answer_;    // The lookup's answer, until handed on.

  absl::Mutex mu_;
  Done done_ ABSL_GUARDED_BY(mu_);
  const v1::LookupOnlineRequest* request_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_);
  bool retry_ ABSL_GUARDED_BY(mu_) = false;
  bool expired_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int ops_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
};

FeatureStreamPort::FeatureStreamPort(FeatureStreamPortOptions options)
    : options_(std::move(options)),
      client_(options_.channel, {"features", options_.target}, options_.context) {}

FeatureStreamPort::~FeatureStreamPort() {
  std::vector<std::shared_ptr<Stream>> idle;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    idle.swap(idle_);
  }
  for (const std::shared_ptr<Stream>& stream : idle) stream->Close();
  idle.clear();  // The streams are waited for below, until they are destroyed.
  // A store that does not end the closed streams (hung, or unreachable without a reset) must not
  // hold the server's shutdown: after kCloseWait they are cancelled.
  absl::MutexLock lock(&mu_);
  const auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_.empty(); };
  if (mu_.AwaitWithTimeout(absl::Condition(&ended), kCloseWait)) return;
  std::vector<std::shared_ptr<Stream>> left;
  for (const auto& [stream, held] : live_) {
    if (std::shared_ptr<Stream> live = held.lock()) left.push_back(std::move(live));
  }
  mu_.Unlock();
  for (const std::shared_ptr<Stream>& stream : left) stream->Cancel();
  left.clear();
  mu_.Lock();
  mu_.Await(absl::Condition(&ended));
}

absl::StatusOr<v1::LookupOnlineResponse> FeatureStreamPort::LookupOnline(
    const v1::LookupOnlineRequest& request, absl::Time deadline) {
  absl::Notification answered;
  absl::StatusOr<v1::LookupOnlineResponse> result;
  LookupOnlineAsync(request, deadline, [&](absl::StatusOr<v1::LookupOnlineResponse> answer) {
    result = std::move(answer);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

void FeatureStreamPort::LookupOnlineAsync(const v1::LookupOnlineRequest& request,
                                          absl::Time deadline, Done done) {
  Send(request, deadline, std::move(done), /*may_retry=*/true);
}

void FeatureStreamPort::Send(const v1::LookupOnlineRequest& request, absl::Time deadline, Done done,
                             bool may_retry) {
  bool reused = false;
  absl::StatusOr<std::shared_ptr<Stream>> stream = Take(&reused);
  if (!stream.ok()) {
    done(stream.status());
    return;
  }
  (*stream)->Send(request, deadline, std::move(done), reused && may_retry);
}

int64_t FeatureStreamPort::streams_opened() const {
  absl::MutexLock lock(&mu_);
  return opened_;
}

absl::StatusOr<std::shared_ptr<FeatureStreamPort::Stream>> FeatureStreamPort::Take(bool* reused) {
  {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      return absl::UnavailableError(
          "the feature store is unavailable: the server is shutting down its feature lookups");
    }
    if (!idle_.empty()) {
      std::shared_ptr<Stream> stream = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return stream;
    }
  }
  client::CallContext call = options_.context;
  call.deadline = absl::InfiniteFuture();
  // A stream lives as long as it is used: no deadline of its own; each lookup times its own.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      call.NewClientContext(absl::InfiniteDuration());
  if (!context.ok()) return context.status();
  auto stream = std::make_shared<Stream>(this, *std::move(context));
  {
    absl::MutexLock lock(&mu_);
    live_.emplace(stream.get(), stream);
    ++opened_;
  }
  stream->Open();
  *reused = false;
  return stream;
}

absl::Status FeatureStreamPort::Failure(const grpc::Status& status) const {
  const grpc::Status lookup(status.error_code(), LookupMessage(status.error_message()),
                            status.error_details());
  const absl::Status failed = client_.Error(lookup, kCall);
  if (failed.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(
        absl::StrCat("the feature store is unavailable: ", failed.message()));
  }
  return failed;
}

void FeatureStreamPort::Idle(std::shared_ptr<Stream> stream) {
  {
    absl::MutexLock lock(&mu_);
    if (!closing_ && static_cast<int>(idle_.size()) < options_.max_idle_streams) {
      idle_.push_back(std::move(stream));
      return;
    }
  }
  stream->Close();
}

void FeatureStreamPort::Ended(const Stream* stream) {
  absl::MutexLock lock(&mu_);
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->get() == stream) {
      idle_.erase(it);
      break;
    }
  }
}

void FeatureStreamPort::Gone(const Stream* stream) {
  absl::MutexLock lock(&mu_);
  live_.erase(stream);
}

}  // namespace fabrique::services
