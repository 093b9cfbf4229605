// Store: opening (and every way it can fail, by code), reads and writes per column family,
// durability across reopen on a real disk, the in-memory Env seam, and closing.

#include "libs/kv/store.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "kv_test_util.h"
#include "libs/kv/env.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"

namespace fabrique::kv {
namespace {

using testing::OpenInMemory;
using testing::RequireFamily;
using testing::TempDir;

StoreOptions DiskOptions(const std::string& path, std::vector<std::string> families = {}) {
  StoreOptions options;
  options.path = path;
  options.column_families = std::move(families);
  return options;
}

TEST_CASE("A store reads back its writes, per column family", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online", "history"});
  const ColumnFamily online = RequireFamily(*store, "online");
  const ColumnFamily history = RequireFamily(*store, "history");

  KV_REQUIRE_OK(store->Put(online, "user-1", "v1"));
  KV_REQUIRE_OK(store->Put(history, "user-1", "h1"));
  REQUIRE(*store->Get(online, "user-1") == "v1");
  REQUIRE(*store->Get(history, "user-1") == "h1");
  KV_REQUIRE_CODE(store->Get(store->DefaultFamily(), "user-1"), absl::StatusCode::kNotFound);

  KV_REQUIRE_OK(store->Put(online, "user-1", "v2", SyncMode::kSync));
  REQUIRE(*store->Get(online, "user-1") == "v2");

  KV_REQUIRE_OK(store->Delete(online, "user-1"));
  KV_REQUIRE_CODE(store->Get(online, "user-1"), absl::StatusCode::kNotFound);
  KV_REQUIRE_OK(store->Delete(online, "never-written"));

  // Keys and values are bytes: embedded zeros survive.
  const std::string key("k\0ey", 4), value("\0\xff\0", 3);
  KV_REQUIRE_OK(store->Put(online, key, value));
  REQUIRE(*store->Get(online, key) == value);
}

TEST_CASE("A missing key is NOT_FOUND naming the key and family", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  const absl::Status status = store->Get(RequireFamily(*store, "online"), "user-42").status();
  REQUIRE(status.code() == absl::StatusCode::kNotFound);
  REQUIRE(absl::StrContains(status.message(), "user-42"));
  REQUIRE(absl::StrContains(status.message(), "online"));
}

TEST_CASE("MultiGet returns each value or nullopt, in key order", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  const ColumnFamily online = RequireFamily(*store, "online");
  KV_REQUIRE_OK(store->Put(online, "a", "1"));
  KV_REQUIRE_OK(store->Put(online, "c", "3"));

  const std::vector<std::string> keys = {"c", "b", "a", "c"};
  absl::StatusOr<std::vector<std::optional<std::string>>> values = store->MultiGet(online, keys);
  KV_REQUIRE_OK(values);
  REQUIRE(*values == std::vector<std::optional<std::string>>{"3", std::nullopt, "1", "3"});
  REQUIRE(store->MultiGet(online, {})->empty());
}

TEST_CASE("A memory-only read answers from memory and refuses to touch the disk", "[store]") {
  TempDir tmp;
  StoreOptions options = DiskOptions(tmp.path() + "/db", {"online"});
  options.block_cache_bytes = 1 << 20;
  std::unique_ptr<Store> store = *Store::Open(options);
  const ColumnFamily online = RequireFamily(*store, "online");
  ReadOptions memory;
  memory.memory_only = true;

  KV_REQUIRE_OK(store->Put(online, "hot", "in the memtable"));
  REQUIRE(*store->Get(online, "hot", memory) == "in the memtable");
  KV_REQUIRE_CODE(store->Get(online, "absent", memory), absl::StatusCode::kNotFound);

  // Flushed: on disk, not yet in the block cache.
  KV_REQUIRE_OK(store->Flush());
  const absl::Status cold = store->Get(online, "hot", memory).status();
  REQUIRE(IsNotInMemory(cold));
  REQUIRE(cold.code() == absl::StatusCode::kUnavailable);
  REQUIRE(absl::StrContains(cold.message(), "not in memory"));
  const std::vector<std::string> keys = {"hot", "absent"};
  REQUIRE(IsNotInMemory(store->MultiGet(online, keys, memory).status()));
  REQUIRE_FALSE(IsNotInMemory(store->Get(online, "absent").status()));

  // A normal read brings the block into the cache; memory-only reads then find it.
  REQUIRE(*store->Get(online, "hot") == "in the memtable");
  REQUIRE(*store->Get(online, "hot", memory) == "in the memtable");
  REQUIRE(*store->MultiGet(online, keys, memory) ==
          std::vector<std::optional<std::string>>{"in the memtable", std::nullopt});
}

TEST_CASE("after_flush is called once a flush has written its file", "[store]") {
  TempDir tmp;
  StoreOptions options = DiskOptions(tmp.path() + "/db", {"online"});
  std::atomic<int> flushes{0};
  options.after_flush = [&flushes] { flushes.fetch_add(1); };
  std::unique_ptr<Store> store = *Store::Open(options);
  const ColumnFamily online = RequireFamily(*store, "online");
  CHECK(flushes.load() == 0);
  KV_REQUIRE_OK(store->Put(online, "key", "value"));
  KV_REQUIRE_OK(store->Flush());
  CHECK(flushes.load() >= 1);
}

TEST_CASE("An unknown column family is NOT_FOUND naming the families that exist", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  const absl::Status status = store->Family("onlin").status();
  REQUIRE(status.code() == absl::StatusCode::kNotFound);
  REQUIRE(absl::StrContains(status.message(), "'onlin'"));
  REQUIRE(absl::StrContains(status.message(), "default, online"));
  REQUIRE(store->FamilyNames() == std::vector<std::string>{"default", "online"});
}

TEST_CASE("Families from another store or default-constructed are INVALID_ARGUMENT", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  std::unique_ptr<Store> other = OpenInMemory({"online"});
  const ColumnFamily foreign = RequireFamily(*other, "online");
  KV_REQUIRE_CODE(store->Put(foreign, "k", "v"), absl::StatusCode::kInvalidArgument);
  KV_REQUIRE_CODE(store->Get(foreign, "k"), absl::StatusCode::kInvalidArgument);
  KV_REQUIRE_CODE(store->Put(ColumnFamily(), "k", "v"), absl::StatusCode::kInvalidArgument);
  KV_REQUIRE_CODE(store->NewIterator(ColumnFamily()), absl::StatusCode::kInvalidArgument);
  KV_REQUIRE_CODE(other->Get(foreign, "k"), absl::StatusCode::kNotFound);
}

TEST_CASE("Open rejects options that can never work with INVALID_ARGUMENT", "[store]") {
  StoreOptions options;
  options.in_memory = true;
  options.path = "/in-memory/kv";

  SECTION("an empty path") {
    options.path.clear();
    KV_REQUIRE_CODE(Store::Open(options), absl::StatusCode::kInvalidArgument);
  }
  SECTION("a family listed twice") {
    options.column_families = {"a", "b", "a"};
    KV_REQUIRE_CODE(Store::Open(options), absl::StatusCode::kInvalidArgument);
  }
  SECTION("an empty family name") {
    options.column_families = {""};
    KV_REQUIRE_CODE(Store::Open(options), absl::StatusCode::kInvalidArgument);
  }
  SECTION("in_memory together with an env") {
    std::unique_ptr<rocksdb::Env> env = NewInMemoryEnv();
    options.env = env.get();
    KV_REQUIRE_CODE(Store::Open(options), absl::StatusCode::kInvalidArgument);
  }
  SECTION("no background threads") {
    options.background_jobs = 0;
    KV_REQUIRE_CODE(Store::Open(options), absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Open without create_if_missing on an empty directory is NOT_FOUND", "[store]") {
  TempDir dir;
  StoreOptions options = DiskOptions(dir.Sub("db"));
  options.create_if_missing = false;
  const absl::Status status = Store::Open(options).status();
  REQUIRE(status.code() == absl::StatusCode::kNotFound);
  REQUIRE(absl::StrContains(status.message(), dir.Sub("db")));
  REQUIRE_FALSE(std::filesystem::exists(dir.Sub("db")));
}

TEST_CASE("Open with a missing family and no permission to create it is NOT_FOUND", "[store]") {
  TempDir dir;
  KV_REQUIRE_OK(Store::Open(DiskOptions(dir.Sub("db"), {"online"})));

  StoreOptions options = DiskOptions(dir.Sub("db"), {"online", "history"});
  options.create_missing_column_families = false;
  const absl::Status status = Store::Open(options).status();
  REQUIRE(status.code() == absl::StatusCode::kNotFound);
  REQUIRE(absl::StrContains(status.message(), "'history'"));
}

TEST_CASE("Open on a path under a regular file is FAILED_PRECONDITION naming it", "[store]") {
  TempDir dir;
  std::ofstream(dir.Sub("file")) << "not a directory";
  const std::string path = dir.Sub("file") + "/nested/db";
  const absl::Status status = Store::Open(DiskOptions(path)).status();
  REQUIRE(status.code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(absl::StrContains(status.message(), path));
}

TEST_CASE("Open creates missing parent directories", "[store]") {
  TempDir dir;
  const std::string path = dir.Sub("a/b/c/db");
  KV_REQUIRE_OK(Store::Open(DiskOptions(path)));
  REQUIRE(std::filesystem::exists(path + "/CURRENT"));
}

TEST_CASE("A second store on the same path is UNAVAILABLE while the first is open", "[store]") {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Store>> first = Store::Open(DiskOptions(dir.Sub("db")));
  KV_REQUIRE_OK(first);
  KV_REQUIRE_CODE(Store::Open(DiskOptions(dir.Sub("db"))), absl::StatusCode::kUnavailable);
  KV_REQUIRE_OK((*first)->Close());
  KV_REQUIRE_OK(Store::Open(DiskOptions(dir.Sub("db"))));
}

TEST_CASE("Reopening after close keeps the data, on a real disk with sync writes", "[store]") {
  TempDir dir;
  StoreOptions options = DiskOptions(dir.Sub("db"), {"online", "history"});
  options.sync_writes = true;
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    KV_REQUIRE_OK(store);
    const ColumnFamily online = RequireFamily(**store, "online");
    for (int i = 0; i < 100; ++i) {
      KV_REQUIRE_OK((*store)->Put(online, "key-" + std::to_string(i), std::to_string(i)));
    }
    KV_REQUIRE_OK((*store)->Put(RequireFamily(**store, "history"), "h", "kept"));
    KV_REQUIRE_OK((*store)->Delete(online, "key-7"));
    absl::StatusOr<ColumnFamily> late = (*store)->CreateFamily("created-later");
    KV_REQUIRE_OK(late);
    KV_REQUIRE_OK((*store)->Put(*late, "x", "y"));

    SECTION("closed explicitly") { KV_REQUIRE_OK((*store)->Close()); }
    SECTION("closed by the destructor") {
      store->reset();
      REQUIRE(*store == nullptr);
    }
    SECTION("after a flush to SST files") { KV_REQUIRE_OK((*store)->Flush()); }
  }

  // Reopen listing fewer families: the others still open.
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(DiskOptions(dir.Sub("db")));
  KV_REQUIRE_OK(store);
  REQUIRE((*store)->FamilyNames() ==
          std::vector<std::string>{"created-later", "default", "history", "online"});
  const ColumnFamily online = RequireFamily(**store, "online");
  for (int i = 0; i < 100; ++i) {
    if (i == 7) {
      KV_REQUIRE_CODE((*store)->Get(online, "key-7"), absl::StatusCode::kNotFound);
    } else {
      REQUIRE(*(*store)->Get(online, "key-" + std::to_string(i)) == std::to_string(i));
    }
  }
  REQUIRE(*(*store)->Get(RequireFamily(**store, "history"), "h") == "kept");
  REQUIRE(*(*store)->Get(RequireFamily(**store, "created-later"), "x") == "y");
}

TEST_CASE("An in-memory store leaves no file on disk", "[store]") {
  TempDir dir;
  StoreOptions options = DiskOptions(dir.Sub("db"), {"online"});
  options.in_memory = true;
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    KV_REQUIRE_OK(store);
    KV_REQUIRE_OK((*store)->Put(RequireFamily(**store, "online"), "k", "v", SyncMode::kSync));
    KV_REQUIRE_OK((*store)->Flush());
    REQUIRE(*(*store)->Get(RequireFamily(**store, "online"), "k") == "v");
  }
  REQUIRE(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("A shared in-memory Env keeps data across reopen without touching disk", "[store]") {
  TempDir dir;
  std::unique_ptr<rocksdb::Env> env = NewInMemoryEnv();
  StoreOptions options = DiskOptions(dir.Sub("db"), {"online"});
  options.env = env.get();
  {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    KV_REQUIRE_OK(store);
    KV_REQUIRE_OK((*store)->Put(RequireFamily(**store, "online"), "k", "v"));
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  KV_REQUIRE_OK(store);
  REQUIRE(*(*store)->Get(RequireFamily(**store, "online"), "k") == "v");
  REQUIRE(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("CreateFamily adds a family once; a second time is ALREADY_EXISTS", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory();
  absl::StatusOr<ColumnFamily> group = store->CreateFamily("group-7");
  KV_REQUIRE_OK(group);
  REQUIRE(group->name() == "group-7");
  REQUIRE(*group == RequireFamily(*store, "group-7"));
  KV_REQUIRE_CODE(store->CreateFamily("group-7"), absl::StatusCode::kAlreadyExists);
  KV_REQUIRE_CODE(store->CreateFamily("default"), absl::StatusCode::kAlreadyExists);
  KV_REQUIRE_CODE(store->CreateFamily(""), absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Closing refuses while a snapshot lives, then blocks every call", "[store]") {
  std::unique_ptr<Store> store = OpenInMemory({"online"});
  const ColumnFamily online = RequireFamily(*store, "online");
  {
    Snapshot snapshot = store->TakeSnapshot();
    KV_REQUIRE_CODE(store->Close(), absl::StatusCode::kFailedPrecondition);
    KV_REQUIRE_OK(store->Put(online, "still", "open"));
  }
  KV_REQUIRE_OK(store->Close());
  KV_REQUIRE_OK(store->Close());
  KV_REQUIRE_CODE(store->Put(online, "k", "v"), absl::StatusCode::kFailedPrecondition);
  KV_REQUIRE_CODE(store->Get(online, "k"), absl::StatusCode::kFailedPrecondition);
  WriteBatch batch;
  KV_REQUIRE_CODE(store->Write(batch), absl::StatusCode::kFailedPrecondition);
  KV_REQUIRE_CODE(store->CreateFamily("x"), absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Options reach RocksDB: family hook, statistics, properties", "[store]") {
  std::set<std::string> configured;
  StoreOptions options;
  options.path = "/in-memory/kv";
  options.in_memory = true;
  options.column_families = {"online"};
  options.enable_statistics = true;
  options.configure_family = [&](const std::string& name, rocksdb::ColumnFamilyOptions* family) {
    configured.insert(name);
    family->disable_auto_compactions = true;
  };
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  KV_REQUIRE_OK(opened);
  Store& store = **opened;
  REQUIRE(configured == std::set<std::string>{"default", "online"});
  KV_REQUIRE_OK(store.CreateFamily("late"));
  REQUIRE(configured.count("late") == 1);

  const ColumnFamily online = RequireFamily(store, "online");
  for (int i = 0; i < 10; ++i) KV_REQUIRE_OK(store.Put(online, std::to_string(i), "v"));
  KV_REQUIRE_OK(store.Flush());
  KV_REQUIRE_OK(store.Compact(online));
  KV_REQUIRE_OK(store.SyncWal());
  REQUIRE(*store.Get(online, "3") == "v");

  absl::StatusOr<uint64_t> keys = store.IntProperty(online, "rocksdb.estimate-num-keys");
  KV_REQUIRE_OK(keys);
  REQUIRE(*keys == 10);
  KV_REQUIRE_CODE(store.IntProperty(online, "rocksdb.no-such-property"),
                  absl::StatusCode::kInvalidArgument);
  REQUIRE(store.statistics() != nullptr);
  REQUIRE(store.statistics()->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN) == 10);
}

// Writes `rows` values of 1 KiB into each of `families`, then returns whether any memtable was
// flushed (an SST file or a memtable waiting to be flushed), polling for up to `wait`.
bool FlushedAfterWrites(const StoreOptions& options, const std::vector<std::string>& families,
                        int rows, absl::Duration wait) {
  std::unique_ptr<Store> store = *Store::Open(options);
  const std::string value(1024, 'x');
  for (const std::string& name : families) {
    const ColumnFamily family = RequireFamily(*store, name);
    for (int i = 0; i < rows; ++i) {
      KV_REQUIRE_OK(store->Put(family, absl::StrCat("key-", i), value));
    }
  }
  const absl::Time deadline = absl::Now() + wait;
  do {
    uint64_t flushed = 0;
    for (const std::string& name : families) {
      const ColumnFamily family = RequireFamily(*store, name);
      flushed += *store->IntProperty(family, "rocksdb.total-sst-files-size");
      flushed += *store->IntProperty(family, "rocksdb.num-immutable-mem-table");
    }
    if (flushed > 0) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  } while (true);
}

TEST_CASE("A cap on all memtables together flushes before any one of them is full", "[store]") {
  TempDir capped_dir, uncapped_dir;
  const std::vector<std::string> families = {"a", "b", "c"};
  // 3 x 1 MiB of writes: far below one family's 8 MiB memtable, three times the 1 MiB cap.
  // Without the cap nothing has reason to flush (checked at once: no flush is ever started).
  StoreOptions uncapped = DiskOptions(uncapped_dir.Sub("db"), families);
  uncapped.write_buffer_bytes = size_t{8} << 20;
  REQUIRE_FALSE(FlushedAfterWrites(uncapped, families, 1024, absl::ZeroDuration()));

  StoreOptions capped = DiskOptions(capped_dir.Sub("db"), families);
  capped.write_buffer_bytes = size_t{8} << 20;
  capped.total_write_buffer_bytes = size_t{1} << 20;
  REQUIRE(FlushedAfterWrites(capped, families, 1024, absl::Seconds(10)));
}

}  // namespace
}  // namespace fabrique::kv
