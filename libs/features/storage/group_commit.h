#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_GROUP_COMMIT_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_GROUP_COMMIT_H_

// GroupCommitter: makes writes durable with one write-ahead-log fsync shared by every caller
// waiting at the same time, instead of one fsync per write.
//
//   RETURN_IF_ERROR(store->Write(batch, kv::SyncMode::kNoSync));  // in the log, not fsynced
//   RETURN_IF_ERROR(committer.Sync());  // returns once that write is fsynced
//
// The first waiter becomes the leader and fsyncs; callers arriving meanwhile wait for the next
// round, which their leader starts as soon as the current one ends, covering all of them. A
// caller's write is covered by any fsync that starts after the write returned, because the log
// is appended in order. With N concurrent ingest streams this costs about one fsync per round
// instead of N, and lets the ingest path release its locks before the fsync (see FeatureWriter).
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "libs/kv/store.h"

namespace fabrique::features {

class GroupCommitter {
 public:
  // Fsyncs `store`'s write-ahead log. `store` is not owned and must outlive the committer.
  explicit GroupCommitter(kv::Store* store)
      : GroupCommitter([store] { return store->SyncWal(); }) {}
  // Calls `sync_wal` for each round: it must make every write returned before the call durable
  // (kv::Store::SyncWal does). A seam for tests that hold a round open while others queue.
  explicit GroupCommitter(std::function<absl::Status()> sync_wal)
      : sync_wal_(std::move(sync_wal)) {}
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Returns once every write that returned before this call is durable, or with the error of the
  // fsync that should have covered it.
  absl::Status Sync();

  // Number of fsyncs issued so far (for tests and metrics).
  int64_t syncs() const;
  // Number of Sync() calls so far, finished or waiting: with syncs(), how much was shared.
  int64_t requests() const;

 private:
  bool NotSyncing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !syncing_; }

  const std::function<absl::Status()> sync_wal_;
  mutable absl::Mutex mu_;
  // Tickets: each Sync() call takes the next one. A round covers every ticket issued before it
  // started.
  uint64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  // Highest ticket known durable.
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;
  // Highest ticket whose round failed, and that round's error.
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_GROUP_COMMIT_H_
