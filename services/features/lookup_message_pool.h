#ifndef FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_
#define FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/features.pb.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace fabrique::services {

// LookupOnline's request and response on one protobuf Arena per call, recycled through a small
// pool. A 100 x 50 answer takes some 400 allocations (columns, refs, lists, strings); made one by
// one, glibc's malloc and free took a third of the server's CPU on one-entity lookups
// (tools/bench/features_lookup_bench --perf_dir). An arena frees them all at once, and a pooled
// arena keeps its first block, so a typical call allocates nothing. Thread-safe.
class LookupMessagePool final
    : public grpc::MessageAllocator<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
 public:
  ~LookupMessagePool() override {
    for (Holder* holder : free_) delete holder;
  }

  grpc::MessageHolder<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* AllocateMessages()
      override {
    Holder* holder = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        holder = free_.back();
        free_.pop_back();
      }
    }
    if (holder == nullptr) holder = new Holder(this);
    holder->CreateMessages();
    return holder;
  }

 private:
  // Holds a 100-entity x 50-float-feature exchange in its first block; larger ones add blocks,
  // freed when the holder comes back.
  static constexpr size_t kFirstBlockBytes = 64 << 10;
  // Holders kept for reuse: more than the calls in flight at once on a busy server.
  static constexpr size_t kMaxPooled = 64;

  class Holder final
      : public grpc::MessageHolder<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {
   public:
    explicit Holder(LookupMessagePool* pool) : pool_(pool), arena_(ArenaOptionsFor(first_block_)) {}

    void CreateMessages() {
      set_request(google::protobuf::Arena::CreateMessage<v1::LookupOnlineRequest>(&arena_));
      set_response(google::protobuf::Arena::CreateMessage<v1::LookupOnlineResponse>(&arena_));
    }
    // gRPC calls this once the call is done with both messages.
    void Release() override {
      arena_.Reset();  // Frees every block but the first, which is ours.
      pool_->Return(this);
    }

   private:
    static google::protobuf::ArenaOptions ArenaOptionsFor(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kFirstBlockBytes;
      options.max_block_size = kFirstBlockBytes;
      return options;
    }

    LookupMessagePool* const pool_;
    alignas(16) char first_block_[kFirstBlockBytes];
    google::protobuf::Arena arena_;  // After first_block_, which it uses.
  };

  void Return(Holder* holder) {
    {
      absl::MutexLock lock(&mu_);
      if (free_.size() < kMaxPooled) {
        free_.push_back(holder);
        return;
      }
    }
    delete holder;
  }

  absl::Mutex mu_;
  std::vector<Holder*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_
