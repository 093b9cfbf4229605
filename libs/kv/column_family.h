#ifndef FABRIQUE_LIBS_KV_COLUMN_FAMILY_H_
#define FABRIQUE_LIBS_KV_COLUMN_FAMILY_H_

// A column family is a separate key space of one Store, with its own RocksDB options (and, later,
// its own compaction filter or merge operator). Services keep one per kind of record (for example
// "online", "history", "catalog"), resolve the handles once at start-up with Store::Family(), and
// pass them to every read and write, so the hot path never looks a name up.

#include <string>

namespace rocksdb {
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace fabrique::kv {

class Store;

// A cheap, copyable reference to a column family of one Store. It stays valid until that Store
// is closed (families are never dropped while a Store is open). A default-constructed
// ColumnFamily is invalid; using it in a read or write gives INVALID_ARGUMENT.
class ColumnFamily {
 public:
  ColumnFamily() = default;

  bool valid() const { return handle_ != nullptr; }
  // The family's name; "" for an invalid ColumnFamily.
  const std::string& name() const;
  // The RocksDB handle, for the rare call this library does not wrap. Null when invalid.
  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }
  // The Store this family belongs to; null when invalid.
  const Store* owner() const { return owner_; }

  friend bool operator==(const ColumnFamily& a, const ColumnFamily& b) {
    return a.handle_ == b.handle_;
  }
  friend bool operator!=(const ColumnFamily& a, const ColumnFamily& b) { return !(a == b); }

 private:
  friend class Store;
  ColumnFamily(const Store* owner, rocksdb::ColumnFamilyHandle* handle)
      : owner_(owner), handle_(handle) {}

  const Store* owner_ = nullptr;
  rocksdb::ColumnFamilyHandle* handle_ = nullptr;
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_COLUMN_FAMILY_H_
