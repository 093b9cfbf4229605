#ifndef FABRIQUE_LIBS_KV_SNAPSHOT_H_
#define FABRIQUE_LIBS_KV_SNAPSHOT_H_

// A consistent, read-only view of a whole Store (every column family) at one instant. Reads and
// iterators given the snapshot see exactly the writes committed before it was taken, whatever is
// written afterwards; a training-set scan or a paginated listing uses one so that it never mixes
// two states. Taking one is cheap; holding one for long keeps old versions of overwritten keys
// from being compacted away, so release it when done.

#include <cstdint>

namespace rocksdb {
class DB;
class Snapshot;
}  // namespace rocksdb

namespace fabrique::kv {

// Owns a RocksDB snapshot and releases it when destroyed. Move-only. Every Snapshot must be
// destroyed before the Store that made it is closed.
class Snapshot {
 public:
  Snapshot(Snapshot&& other) noexcept;
  Snapshot& operator=(Snapshot&& other) noexcept;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot();

  // The RocksDB sequence number the snapshot was taken at: larger means later.
  uint64_t sequence_number() const;
  // The RocksDB snapshot, for calls this library does not wrap. Null once moved from.
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  friend class Store;
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  void Release();

  rocksdb::DB* db_ = nullptr;
  const rocksdb::Snapshot* snapshot_ = nullptr;
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_SNAPSHOT_H_
