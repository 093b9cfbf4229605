#include "libs/kv/snapshot.h"

#include <utility>

#include "rocksdb/db.h"

namespace fabrique::kv {

Snapshot::Snapshot(Snapshot&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), snapshot_(std::exchange(other.snapshot_, nullptr)) {}

Snapshot& Snapshot::operator=(Snapshot&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = std::exchange(other.db_, nullptr);
    snapshot_ = std::exchange(other.snapshot_, nullptr);
  }
  return *this;
}

Snapshot::~Snapshot() { Release(); }

uint64_t Snapshot::sequence_number() const {
  return snapshot_ != nullptr ? snapshot_->GetSequenceNumber() : 0;
}

void Snapshot::Release() {
  if (db_ != nullptr && snapshot_ != nullptr) db_->ReleaseSnapshot(snapshot_);
  db_ = nullptr;
  snapshot_ = nullptr;
}

}  // namespace fabrique::kv
