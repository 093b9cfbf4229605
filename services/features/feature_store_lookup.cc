// The feature store's adapter: online lookup, one call at a time (LookupOnline) and on a
// long-lived stream (LookupOnlineStream). Both answer a request the same way (AnswerLookup).

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/features/feature_store_service.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using Reads = std::vector<PersonalDataReads::Read>;

}  // namespace

void FeatureStoreService::AnswerLookup(grpc::CallbackServerContext* context, const char* method,
                                       const server::Caller& caller,
                                       const v1::LookupOnlineRequest& request,
                                       v1::LookupOnlineResponse* response,
                                       std::function<void(absl::Status)> done) {
  if (request.features_size() == 0) {
    done(absl::InvalidArgumentError(
        "LookupOnlineRequest.features is empty: name at least one group:feature"));
    return;
  }
  // Every group read must be owned by a squad the caller reads in, and its personal features
  // need features.personal.read there too; judged on the definitions the lookup resolves
  // anyway, so it costs no read of the store (and a group without personal features costs one
  // emptiness test more than before).
  const auto may_read = [this, context, method](const server::Caller& who, Reads* reads) {
    return [this, context, method, &who, reads](
               const v1::FeatureGroup& group,
               absl::Span<const std::string> personal) -> absl::Status {
      if (!who.Sees(group.spec().owner_squad())) {
        return NotVisible(who, absl::StrCat("feature group '", group.spec().name(), "'"),
                          Permission(method), group.spec().owner_squad());
      }
      if (personal.empty()) return absl::OkStatus();
      if (absl::Status allowed = personal_.Check(*context, who, group, personal); !allowed.ok()) {
        return allowed;
      }
      reads->push_back({group.spec().name(), {personal.begin(), personal.end()}});
      return absl::OkStatus();
    };
  };
  // A lookup that read personal data is answered only once it is counted and logged.
  const auto recorded = [this, method, response](const server::Caller& who, const Reads& reads,
                                                 absl::Status status) {
    if (status.ok()) status = personal_.Record(who, method, reads, response->row_count(), "");
    if (status.ok()) keys_looked_up_.Increment(static_cast<double>(response->row_count()));
    return status;
  };
  // First from memory, on this thread: a hot set held in the memtables and block cache is
  // answered without a hand-off to another thread (its queueing and wake-up were most of a
  // one-entity lookup's tail). Only a lookup that needs the disk goes to the executor, so no
  // gRPC thread ever waits for a read.
  Reads reads;
  const absl::Status in_memory =
      store_->LookupOnline(request, response, /*memory_only=*/true, may_read(caller, &reads));
  if (!kv::IsNotInMemory(in_memory)) {
    done(recorded(caller, reads, in_memory));
    return;
  }
  const absl::Status scheduled =
      lookups_->Schedule([this, &request, response, may_read, recorded, done, who = caller] {
        Reads reads;
        const absl::Status read =
            store_->LookupOnline(request, response, /*memory_only=*/false, may_read(who, &reads));
        done(recorded(who, reads, read));
      });
  if (!scheduled.ok()) done(scheduled);
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
  // The request, response, context and reactor live until Finish.
  AnswerLookup(context, "LookupOnline", *caller, *request, response,
               [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

// One LookupOnlineStream call. One request is in hand at a time: read, answered, written, then
// the next is read, so responses leave in the order of their requests, and one request and one
// response message serve the whole stream (their buffers keep their capacity). A client that
// writes ahead is not slowed: its requests wait in gRPC's buffers while one is answered.
class LookupStream final
    : public grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
 public:
  LookupStream(FeatureStoreService* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    // The client closed its side (or went away): every request it sent has been answered.
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    // Who calls is checked once, on the first request: the rule asks for the permission in any
    // squad, which no later request can change; each request's groups are still checked.
    if (!caller_.has_value()) {
      absl::StatusOr<server::Caller> caller = service_->access_.Check(*context_, kMethod, request_);
      if (!caller.ok()) {
        Finish(ToGrpcStatus(caller.status()));
        return;
      }
      caller_ = *std::move(caller);
    }
    service_->AnswerLookup(context_, kMethod, *caller_, request_, &response_,
                           [this](absl::Status status) { Answered(std::move(status)); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading"));
      return;
    }
    ++answered_;
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  static constexpr char kMethod[] = "LookupOnlineStream";

  void Answered(absl::Status status) {
    if (status.ok()) {
      StartWrite(&response_);
      return;
    }
    // The requests before this one were answered; the stream ends with this one's error.
    Finish(ToGrpcStatus(
        absl::Status(status.code(),
                     absl::StrCat("after ", answered_, " answered requests: ", status.message()))));
  }

  FeatureStoreService* const service_;
  grpc::CallbackServerContext* const context_;
  std::optional<server::Caller> caller_;  // Set by the first request's check.
  int64_t answered_ = 0;                  // Responses written.
  v1::LookupOnlineRequest request_;
  v1::LookupOnlineResponse response_;
};

grpc::ServerBidiReactor<v1::LookupOnlineRequest, v1::LookupOnlineResponse>*
FeatureStoreService::LookupOnlineStream(grpc::CallbackServerContext* context) {
  return new LookupStream(this, context);
}

}  // namespace fabrique::services
