#ifndef FABRIQUE_LIBS_SERVER_ARENA_MESSAGE_POOL_H_
#define FABRIQUE_LIBS_SERVER_ARENA_MESSAGE_POOL_H_

// A callback method's request and response on one protobuf Arena per call, recycled through a
// small pool (gRPC's MessageAllocator). A large answer of many small messages (a lookup's
// columns, a prediction per row) takes hundreds of allocations; made one by one, malloc and free
// cost a hot method a good share of its CPU. An arena frees them all at once, and a pooled arena
// keeps its first block, so a typical call allocates nothing.
//
//   service.SetMessageAllocatorFor_LookupOnline(&pool);  // pool outlives the server
//
// A client's async call can take its messages from one too: AllocateMessages before the call,
// Release once nothing reads them (the inference server's lookups of features parse their
// answers so).
//
// Thread-safe.

#include <cstddef>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace fabrique::server {

template <typename Request, typename Response>
class ArenaMessagePool : public grpc::MessageAllocator<Request, Response> {
 public:
  ArenaMessagePool() = default;
  ArenaMessagePool(const ArenaMessagePool&) = delete;
  ArenaMessagePool& operator=(const ArenaMessagePool&) = delete;
  ~ArenaMessagePool() override {
    for (Messages* messages : free_) delete messages;
  }

  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
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
  // Holds a 100-entity exchange (a 100 x 50 lookup, or a 100-row prediction) in its first block;
  // larger ones add blocks, freed when the call releases its messages.
  static constexpr size_t kFirstBlockBytes = 64 << 10;
  // Arenas kept for reuse: more than the calls in flight at once on a busy server.
  static constexpr size_t kMaxPooled = 64;

  class Messages final : public grpc::MessageHolder<Request, Response> {
   public:
    explicit Messages(ArenaMessagePool* pool) : pool_(pool), arena_(Options(first_block_)) {}

    void Create() {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
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

    ArenaMessagePool* const pool_;
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

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_ARENA_MESSAGE_POOL_H_
