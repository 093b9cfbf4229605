#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_MESSAGES_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_MESSAGES_H_

// Predict's request and response on one protobuf Arena per call, recycled through a small pool
// (the feature store's LookupMessagePool does the same for LookupOnline). A 100-entity answer
// takes some 900 allocations (per row the prediction, its version reference, its output, and
// strings for the id, model, alias and label); made one by one, building, serialising and freeing
// them cost the inference server about 50 us a call at 100 entities. An arena frees them all at
// once, and a pooled arena keeps its first block, so a typical call allocates nothing.
// Thread-safe.

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/inference.pb.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace fabrique::services {

class PredictMessagePool final
    : public grpc::MessageAllocator<v1::PredictRequest, v1::PredictResponse> {
 public:
  PredictMessagePool() = default;
  PredictMessagePool(const PredictMessagePool&) = delete;
  PredictMessagePool& operator=(const PredictMessagePool&) = delete;
  ~PredictMessagePool() override {
    for (Messages* messages : free_) delete messages;
  }

  grpc::MessageHolder<v1::PredictRequest, v1::PredictResponse>* AllocateMessages() override {
    Messages* messages = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        messages = free_.back();
        free_.pop_back();
      }
    }
    if (messages == nullptr) messages = new Messages(this);
    messages->Create();
    return messages;
  }

 private:
  // Holds a 128-row answer in its first block; larger ones add blocks, freed on release.
  static constexpr size_t kFirstBlockBytes = 64 << 10;
  // Arenas kept for reuse: more than the calls in flight at once on a busy server.
  static constexpr size_t kMaxPooled = 64;

  class Messages final : public grpc::MessageHolder<v1::PredictRequest, v1::PredictResponse> {
   public:
    explicit Messages(PredictMessagePool* pool) : pool_(pool), arena_(Options(first_block_)) {}

    void Create() {
      set_request(google::protobuf::Arena::CreateMessage<v1::PredictRequest>(&arena_));
      set_response(google::protobuf::Arena::CreateMessage<v1::PredictResponse>(&arena_));
    }
    // Called by gRPC once the call no longer reads either message.
    void Release() override {
      arena_.Reset();  // Keeps only the first block, which is this object's.
      pool_->Recycle(this);
    }

   private:
    static google::protobuf::ArenaOptions Options(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kFirstBlockBytes;
      options.max_block_size = kFirstBlockBytes;
      return options;
    }

    PredictMessagePool* const pool_;
    alignas(16) char first_block_[kFirstBlockBytes];
    google::protobuf::Arena arena_;  // Declared after first_block_, which it starts in.
  };

  void Recycle(Messages* messages) {
    {
      absl::MutexLock lock(&mu_);
      if (free_.size() < kMaxPooled) {
        free_.push_back(messages);
        return;
      }
    }
    delete messages;
  }

  absl::Mutex mu_;
  std::vector<Messages*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_MESSAGES_H_
