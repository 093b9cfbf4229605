#ifndef FABRIQUE_LIBS_SERVER_MEMORY_RETURN_H_
#define FABRIQUE_LIBS_SERVER_MEMORY_RETURN_H_

// MemoryReturn: gives the C allocator's free memory back to the system on a schedule.
//
// glibc keeps what a program frees in its arenas for reuse and returns only what lies at the top
// of a heap. A service frees memory in bursts (a flushed memtable, a large message, the records a
// report read), so without this its resident memory stays at the peak of every past burst: 40 MiB
// above what the feature store used under a steady load, and growing with each burst's shape. An
// SRE cannot tell that from a leak, and the node's memory is held for nothing. Every `interval`
// MemoryReturn calls glibc's malloc_trim(0), which releases the free whole pages of every arena
// (they stay mapped, and are faulted in again when reused).
//
//   std::unique_ptr<MemoryReturn> returner = MemoryReturn::Start(options);
//   ...  // The destructor stops the thread and waits for it.
//
// Elsewhere than glibc it does nothing.

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"

namespace fabrique::server {

struct MemoryReturnOptions {
  // Time between two returns. Zero or less: never (no thread). Default: 10 s. A return walks
  // each arena's free lists under that arena's lock: 3-15 ms on a 200 MiB heap of 25k small
  // blocks half freed at random, less on a service's usual heap.
  absl::Duration interval = absl::Seconds(10);
  // After Soon(), how long the thread waits before it returns: what asked (a flush) frees its
  // memory just after. Default: 200 ms.
  absl::Duration soon_delay = absl::Milliseconds(200);
  // Least time between a return asked by Soon() and the return before it. Under a heavy ingest a
  // store flushes every second or so, and returning each time cost the feature store's streaming
  // ingest 7-9% (the memtables' pages faulted in again). Default: 5 s.
  absl::Duration soon_spacing = absl::Seconds(5);
  // Counts the seconds the returns took, so their cost is seen. Not owned; nullptr = not counted.
  prometheus::Counter* seconds = nullptr;
};

class MemoryReturn {
 public:
  // Starts the thread (none when the interval is not positive).
  static std::unique_ptr<MemoryReturn> Start(MemoryReturnOptions options);
  ~MemoryReturn();
  MemoryReturn(const MemoryReturn&) = delete;
  MemoryReturn& operator=(const MemoryReturn&) = delete;

  // Returns the free memory now, on the caller's thread. True when some was released.
  static bool ReturnNow();

  // Caps the arenas glibc's allocator spreads the process's threads over (M_ARENA_MAX; 0 leaves
  // glibc's default, 8 per core). Each arena keeps its own free memory, and a page with one
  // block still in use cannot be returned, so the more arenas, the more memory stays resident
  // beside what is in use: in the feature store under the soak's load, about 30 MiB with the
  // default 16 arenas on two cores, against about 10 with 2. Call it before the process starts
  // its threads: arenas made earlier stay. INVALID_ARGUMENT for a negative count; elsewhere
  // than glibc it does nothing.
  static absl::Status LimitArenas(int arenas);

  // Asks the process's running returner, if there is one, for a return after its soon_delay
  // rather than at its next interval: a store is about to free a flushed memtable
  // (kv::StoreOptions::after_flush), and a memory limit would otherwise see it twice for up to an
  // interval. Cheap and safe from any thread; does nothing without a running returner.
  static void Soon();

  // Returns made by the thread so far.
  int64_t rounds() const { return rounds_.load(); }

 private:
  explicit MemoryReturn(MemoryReturnOptions options) : options_(options) {}
  void Run();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_ || soon_; }

  const MemoryReturnOptions options_;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool soon_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time last_return_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  std::atomic<int64_t> rounds_{0};
  std::thread thread_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_MEMORY_RETURN_H_
