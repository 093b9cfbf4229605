#include "libs/features/storage/group_commit.h"

namespace fabrique::features {

absl::Status GroupCommitter::Sync() {
  absl::MutexLock lock(&mu_);
  const uint64_t ticket = ++issued_;
  while (true) {
    if (durable_ >= ticket) return absl::OkStatus();
    // A failed round that covered this ticket reports its error; a later round that succeeded
    // (durable_ >= ticket above) wins over it.
    if (failed_ >= ticket) return failure_;
    if (!syncing_) {
      // Lead a round covering every ticket issued so far, this one included.
      syncing_ = true;
      const uint64_t covered = issued_;
      absl::Status status;
      {
        mu_.Unlock();
        status = sync_wal_();
        mu_.Lock();
      }
      syncing_ = false;
      ++syncs_;
      if (status.ok()) {
        if (covered > durable_) durable_ = covered;
      } else {
        failed_ = covered;
        failure_ = status;
      }
      continue;
    }
    // Another caller leads a round; wait for it to end, then check again (and maybe lead next).
    mu_.Await(absl::Condition(this, &GroupCommitter::NotSyncing));
  }
}

int64_t GroupCommitter::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

int64_t GroupCommitter::requests() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(issued_);
}

}  // namespace fabrique::features
