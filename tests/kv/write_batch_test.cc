// Write batches are atomic across column families: readers see all of a batch or none of it,
// whether the batch succeeds, is refused for being built wrong, or fails on a write-ahead-log
// error injected through the Env seam.

#include "libs/kv/write_batch.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "kv_test_util.h"
#include "libs/kv/env.h"
#include "libs/kv/store.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace fabrique::kv {
namespace {

using testing::OpenInMemory;
using testing::RequireFamily;
using testing::TempDir;

// Passes every call through, except that appends to write-ahead-log files fail while armed: the
// moment a batch would reach the log, as a full or failing disk would make it.
class FailingWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
      : FileSystemWrapper(target) {}

  const char* Name() const override { return "FailingWalFileSystem"; }
  void set_fail_wal_appends(bool fail) { fail_ = fail; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, debug);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<FailingFile>(std::move(*result), &fail_);
    }
    return status;
  }

 private:
  class FailingFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    FailingFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>* fail)
        : FSWritableFileOwnerWrapper(std::move(file)), fail_(fail) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected write-ahead log failure");
      return target()->Append(data, options, debug);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* debug) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected write-ahead log failure");
      return target()->Append(data, options, info, debug);
    }

   private:
    const std::atomic<bool>* fail_;
  };

  std::atomic<bool> fail_{false};
};

bool Has(const Store& store, ColumnFamily family, const std::string& key,
         const ReadOptions& options = {}) {
  absl::StatusOr<std::string> value = store.Get(family, key, options);
  if (value.status().code() == absl::StatusCode::kNotFound) return false;
  KV_REQUIRE_OK(value);
  return true;
}

TEST_CASE("A batch across two families is invisible before Write and whole after", "[batch]") {
  std::unique_ptr<Store> store = OpenInMemory({"online", "history"});
  const ColumnFamily online = RequireFamily(*store, "online");
  const ColumnFamily history = RequireFamily(*store, "history");
  KV_REQUIRE_OK(store->Put(online, "stale", "x"));

  WriteBatch batch;
  batch.Put(online, "user-1", "v1").Put(history, "user-1@100", "v1").Delete(online, "stale");
  REQUIRE(batch.count() == 3);
  REQUIRE(batch.byte_size() > 0);
  KV_REQUIRE_OK(batch.status());
  REQUIRE_FALSE(Has(*store, online, "user-1"));  // Building a batch writes nothing.

  Snapshot before = store->TakeSnapshot();
  KV_REQUIRE_OK(store->Write(batch, SyncMode::kSync));
  Snapshot after = store->TakeSnapshot();

  ReadOptions at_before;
  at_before.snapshot = &before;
  REQUIRE_FALSE(Has(*store, online, "user-1", at_before));
  REQUIRE_FALSE(Has(*store, history, "user-1@100", at_before));
  REQUIRE(Has(*store, online, "stale", at_before));

  ReadOptions at_after;
  at_after.snapshot = &after;
  REQUIRE(Has(*store, online, "user-1", at_after));
  REQUIRE(Has(*store, history, "user-1@100", at_after));
  REQUIRE_FALSE(Has(*store, online, "stale", at_after));
}

TEST_CASE("A batch that fails to build is refused and writes nothing", "[batch]") {
  std::unique_ptr<Store> store = OpenInMemory({"online", "history"});
  const ColumnFamily online = RequireFamily(*store, "online");
  const ColumnFamily history = RequireFamily(*store, "history");
  WriteBatch batch;
  batch.Put(online, "a", "1").Put(history, "b", "2");

  SECTION("an invalid family") {
    batch.Put(ColumnFamily(), "c", "3");
    REQUIRE(absl::StrContains(batch.status().message(), "invalid ColumnFamily"));
  }
  SECTION("a family of another store") {
    std::unique_ptr<Store> other = OpenInMemory({"online"});
    batch.Put(RequireFamily(*other, "online"), "c", "3");
    KV_REQUIRE_CODE(other->Write(batch), absl::StatusCode::kInvalidArgument);
    REQUIRE_FALSE(Has(*other, RequireFamily(*other, "online"), "c"));
  }
  SECTION("an empty DeleteRange") {
    batch.DeleteRange(online, "z", "a");
    REQUIRE(absl::StrContains(batch.status().message(), "'online'"));
  }

  KV_REQUIRE_CODE(batch.status(), absl::StatusCode::kInvalidArgument);
  batch.Put(online, "after-the-error", "ignored");
  KV_REQUIRE_CODE(store->Write(batch), absl::StatusCode::kInvalidArgument);
  REQUIRE_FALSE(Has(*store, online, "a"));
  REQUIRE_FALSE(Has(*store, history, "b"));
  REQUIRE_FALSE(Has(*store, online, "after-the-error"));

  // Clearing makes the batch usable again.
  batch.Clear();
  KV_REQUIRE_OK(batch.status());
  batch.Put(online, "a", "1");
  KV_REQUIRE_OK(store->Write(batch));
  REQUIRE(Has(*store, online, "a"));
}

TEST_CASE("A batch for one store is refused by another", "[batch]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  std::unique_ptr<Store> other = OpenInMemory({"online"});
  WriteBatch batch;
  batch.Put(RequireFamily(*store, "online"), "k", "v");
  KV_REQUIRE_CODE(other->Write(batch), absl::StatusCode::kInvalidArgument);
  REQUIRE_FALSE(Has(*other, RequireFamily(*other, "online"), "k"));
}

TEST_CASE("DeleteRange in a batch removes exactly [begin, end)", "[batch]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  const ColumnFamily online = RequireFamily(*store, "online");
  for (const char* key : {"a", "b", "c", "d"}) KV_REQUIRE_OK(store->Put(online, key, "v"));
  WriteBatch batch;
  batch.DeleteRange(online, "b", "d");
  KV_REQUIRE_OK(store->Write(batch));
  REQUIRE(Has(*store, online, "a"));
  REQUIRE_FALSE(Has(*store, online, "b"));
  REQUIRE_FALSE(Has(*store, online, "c"));
  REQUIRE(Has(*store, online, "d"));
}

TEST_CASE("A batch whose log write fails leaves nothing, even after reopen", "[batch]") {
  std::unique_ptr<rocksdb::Env> memory = NewInMemoryEnv();
  auto fs = std::make_shared<FailingWalFileSystem>(memory->GetFileSystem());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StoreOptions options;
  options.path = "/faulty/kv";
  options.env = env.get();
  options.column_families = {"online", "history"};
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    KV_REQUIRE_OK(store);
    const ColumnFamily online = RequireFamily(**store, "online");
    const ColumnFamily history = RequireFamily(**store, "history");
    KV_REQUIRE_OK((*store)->Put(online, "before", "kept", SyncMode::kSync));

    WriteBatch batch;
    batch.Put(online, "user-1", "v1").Put(history, "user-1@100", "v1").Delete(online, "before");
    fs->set_fail_wal_appends(true);
    const absl::Status status = (*store)->Write(batch, SyncMode::kSync);
    INFO(status.ToString());
    REQUIRE(status.code() == absl::StatusCode::kUnavailable);
    REQUIRE(absl::StrContains(status.message(), "/faulty/kv"));
    fs->set_fail_wal_appends(false);

    REQUIRE_FALSE(Has(**store, online, "user-1"));
    REQUIRE_FALSE(Has(**store, history, "user-1@100"));
    REQUIRE(Has(**store, online, "before"));
    (*store)->Close().IgnoreError();  // The store is read-only after the failure; that is fine.
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  KV_REQUIRE_OK(store);
  REQUIRE_FALSE(Has(**store, RequireFamily(**store, "online"), "user-1"));
  REQUIRE_FALSE(Has(**store, RequireFamily(**store, "history"), "user-1@100"));
  REQUIRE(Has(**store, RequireFamily(**store, "online"), "before"));
}

TEST_CASE("Concurrent readers never see part of a batch", "[batch]") {
  std::unique_ptr<Store> store = OpenInMemory({"online", "history"});
  const ColumnFamily online = RequireFamily(*store, "online");
  const ColumnFamily history = RequireFamily(*store, "history");
  constexpr int kKeys = 8;
  constexpr int kBatches = 300;
  std::vector<std::string> keys;
  for (int k = 0; k < kKeys; ++k) keys.push_back("key-" + std::to_string(k));

  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= kBatches; ++i) {
      WriteBatch batch;
      for (const std::string& key : keys) {
        batch.Put(online, key, std::to_string(i)).Put(history, key, std::to_string(i));
      }
      if (!store->Write(batch).ok()) break;
    }
    done = true;
  });

  int torn = 0, rounds = 0;
  while (!done || rounds == 0) {
    ++rounds;
    Snapshot snapshot = store->TakeSnapshot();
    ReadOptions at;
    at.snapshot = &snapshot;
    absl::StatusOr<std::vector<std::optional<std::string>>> a = store->MultiGet(online, keys, at);
    absl::StatusOr<std::vector<std::optional<std::string>>> b = store->MultiGet(history, keys, at);
    if (!a.ok() || !b.ok()) {
      ++torn;
      continue;
    }
    for (int k = 0; k < kKeys; ++k) {
      if ((*a)[k] != (*a)[0] || (*b)[k] != (*a)[0]) ++torn;
    }
  }
  writer.join();
  REQUIRE(torn == 0);
  REQUIRE(*store->Get(history, "key-0") == std::to_string(kBatches));
}

TEST_CASE("A sync batch survives reopen on a real disk", "[batch]") {
  TempDir dir;
  StoreOptions options;
  options.path = dir.Sub("db");
  options.column_families = {"online", "history"};
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    KV_REQUIRE_OK(store);
    WriteBatch batch;
    batch.Put(RequireFamily(**store, "online"), "k", "1")
        .Put(RequireFamily(**store, "history"), "k", "2");
    KV_REQUIRE_OK((*store)->Write(batch, SyncMode::kSync));
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  KV_REQUIRE_OK(store);
  REQUIRE(*(*store)->Get(RequireFamily(**store, "online"), "k") == "1");
  REQUIRE(*(*store)->Get(RequireFamily(**store, "history"), "k") == "2");
}

}  // namespace
}  // namespace fabrique::kv
