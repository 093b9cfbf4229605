// The feature store's adapter: Ingest, a client stream of batches committed in order.
//
// The call reads one batch ahead: while a batch is written to the store, gRPC receives,
// decrypts and parses the next one on its own threads. A bulk batch of 200,000 rows is about
// 20 MB on the wire, and reading it had taken a fifth of the call's thread. The batches are still
// written one at a time and in order, each only after the one before it was committed, and the
// first refused batch ends the call at once: the batch read ahead of it is dropped unwritten.
// The writes run on a thread of the call's own (a stream's batches may each take a few hundred
// milliseconds, which no gRPC thread should wait for).

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "libs/core/status_macros.h"
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

// One Ingest call. gRPC's threads only receive batches (OnReadDone queues them); the call's
// writer thread starts every read, writes every batch and finishes the call, so no read is
// started after Finish. Finish is the writer's last touch of this object: OnDone deletes it.
class IngestStream final : public grpc::ServerReadReactor<v1::IngestRequest> {
 public:
  IngestStream(FeatureStoreService* service, grpc::CallbackServerContext* context,
               v1::IngestResponse* response)
      : service_(service), context_(context), response_(response) {
    // Who calls is known before the first batch is read, so a stranger's upload is never parsed.
    if (absl::StatusOr<server::Authentication> who =
            service_->access_.guard().Authenticate(*context_);
        !who.ok()) {
      Finish(ToGrpcStatus(who.status()));
      return;
    }
    std::thread([this] { Write(); }).detach();
  }

  void OnReadDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      read_pending_ = false;
      if (ok)
        received_.push_back(reading_);
      else
        closed_ = true;  // The client closed its side, or the call ended.
    }
    changed_.notify_one();
  }

  void OnDone() override { delete this; }

 private:
  static constexpr int kBuffers = 2;  // The batch being written and the one read ahead.

  // The writer thread.
  void Write() {
    pthread_setname_np(pthread_self(), "ingest");
    grpc::Status status = WriteBatches();
    // The call is the acknowledgement: batches are committed as they come and made durable
    // together, with one fsync, before it ends (whether it succeeds or fails on a batch).
    if (const absl::Status synced = service_->store_->SyncIngested(); !synced.ok()) {
      status = ToGrpcStatus(core::WithContext(synced, "making the ingested batches durable"));
    }
    Finish(status);
  }

  // Starts reading into a free buffer unless a read is under way or the client is done.
  void ReadAhead() {
    int slot = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (read_pending_ || closed_ || free_.empty()) return;
      slot = free_.back();
      free_.pop_back();
      read_pending_ = true;
      reading_ = slot;
    }
    // Outside the lock: gRPC may run OnReadDone before StartRead returns.
    StartRead(&buffers_[slot]);
  }

  grpc::Status WriteBatches() {
    // Each batch is checked against its own group: a stream may not start in a group the caller
    // writes and go on in another squad's. A group allowed once is not checked again.
    std::set<std::string> allowed_groups;
    std::map<v1::RejectReason, int64_t> reject_totals;
    for (int64_t index = 0;; ++index) {
      ReadAhead();
      int slot = -1;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] { return !received_.empty() || closed_; });
        if (received_.empty()) break;
        slot = received_.front();
        received_.pop_front();
      }
      ReadAhead();  // The next batch arrives while this one is written.
      if (context_->IsCancelled()) {
        return grpc::Status(grpc::StatusCode::CANCELLED,
                            absl::StrCat("ingest cancelled before batch ", index));
      }
      const v1::IngestRequest& request = buffers_[slot];
      absl::StatusOr<v1::IngestBatchResult> result =
          absl::InvalidArgumentError("IngestRequest.group is required");
      if (!request.group().empty()) {
        if (allowed_groups.count(request.group()) == 0) {
          absl::StatusOr<server::Caller> caller =
              service_->access_.Check(*context_, "Ingest", request);
          if (caller.ok())
            allowed_groups.insert(request.group());
          else
            result = caller.status();
        }
        if (allowed_groups.count(request.group()) > 0) {
          result = service_->store_->Ingest(request, features::FeatureStore::IngestSync::kDeferred);
        }
      }
      if (!result.ok()) {
        // Batches before this one are committed; this one and any after it are not.
        return ToGrpcStatus(absl::Status(
            result.status().code(),
            absl::StrCat(
                "batch ", index, " (", request.batch_id().empty() ? "no id" : request.batch_id(),
                ") refused, batches before it are committed: ", result.status().message())));
      }
      result->set_batch_index(index);
      service_->RecordIngest(request.group(), *result);
      response_->set_rows_written(response_->rows_written() + result->rows_written());
      response_->set_rows_rejected(response_->rows_rejected() + result->rows_rejected());
      for (const v1::RejectCount& count : result->reject_counts()) {
        reject_totals[count.reason()] += count.count();
      }
      *response_->add_batches() = *std::move(result);
      {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(slot);
      }
    }
    for (const auto& [reason, count] : reject_totals) {
      v1::RejectCount* total = response_->add_reject_counts();
      total->set_reason(reason);
      total->set_count(count);
    }
    return grpc::Status::OK;
  }

  FeatureStoreService* const service_;
  grpc::CallbackServerContext* const context_;
  v1::IngestResponse* const response_;
  v1::IngestRequest buffers_[kBuffers];

  std::mutex mu_;
  std::condition_variable changed_;  // A batch arrived, or the reads ended.
  std::deque<int> received_;         // Buffers read and not yet written, oldest first.
  std::vector<int> free_ = {1, 0};   // Buffers free to read into.
  int reading_ = -1;                 // The buffer of the read under way.
  bool read_pending_ = false;
  bool closed_ = false;  // No more batches will arrive.
};

grpc::ServerReadReactor<v1::IngestRequest>* FeatureStoreService::Ingest(
    grpc::CallbackServerContext* context, v1::IngestResponse* response) {
  return new IngestStream(this, context, response);
}

}  // namespace fabrique::services
