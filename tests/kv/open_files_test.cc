// How many SST files a Store holds open (StoreOptions::max_open_files).

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "kv_test_util.h"
#include "libs/kv/store.h"
#include "rocksdb/options.h"

namespace fabrique::kv {
namespace {

using testing::RequireFamily;
using testing::TempDir;

// RocksDB keeps max_open_files - 10 tables open, in a cache of 64 shards each holding at least
// one: with a cap of 74 that is at most 64, so the store below must close and reopen most of its
// 160 files as it reads them.
constexpr int kFiles = 160;
constexpr int kCap = 74;

// This process's descriptors open on an SST file under `dir`.
int OpenTables(const std::string& dir) {
  int open = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::filesystem::path target = std::filesystem::read_symlink(entry.path(), error);
    if (!error && absl::StartsWith(target.string(), dir) &&
        absl::EndsWith(target.string(), ".sst")) {
      ++open;
    }
  }
  return open;
}

// A store of kFiles SST files (one key each, compactions off, so none is merged away), every key
// read back; returns the SST files held open after the reads.
int TablesOpenAfterReadingAll(const std::string& dir, int max_open_files) {
  StoreOptions options;
  options.path = dir;
  options.column_families = {"rows"};
  options.max_open_files = max_open_files;
  options.configure_family = [](const std::string&, rocksdb::ColumnFamilyOptions* family) {
    family->disable_auto_compactions = true;
  };
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  KV_REQUIRE_OK(opened);
  Store& store = **opened;
  const ColumnFamily rows = RequireFamily(store, "rows");
  for (int i = 0; i < kFiles; ++i) {
    KV_REQUIRE_OK(store.Put(rows, absl::StrCat("key-", 100 + i), absl::StrCat("value-", i)));
    KV_REQUIRE_OK(store.Flush());
  }
  // Oldest first: each read probes every newer file's filter on its way down level 0.
  for (int i = 0; i < kFiles; ++i) {
    const absl::StatusOr<std::string> value = store.Get(rows, absl::StrCat("key-", 100 + i));
    KV_REQUIRE_OK(value);
    REQUIRE(*value == absl::StrCat("value-", i));
  }
  return OpenTables(dir);
}

TEST_CASE("A store holds at most max_open_files tables open, and still reads every one",
          "[store][open_files]") {
  TempDir capped_dir, every_dir;
  // Without a cap every file stays open: the count below is of real descriptors.
  CHECK(TablesOpenAfterReadingAll(every_dir.Sub("db"), -1) == kFiles);
  const int capped = TablesOpenAfterReadingAll(capped_dir.Sub("db"), kCap);
  CHECK(capped > 0);
  CHECK(capped <= kCap);
}

TEST_CASE("max_open_files defaults to a quarter of the process's limit", "[store][open_files]") {
  CHECK(StoreOptions().max_open_files == 0);
  CHECK(ResolvedMaxOpenFiles(0, 1024) == 256);
  CHECK(ResolvedMaxOpenFiles(0, 1048576) == 262144);
  CHECK(ResolvedMaxOpenFiles(0, 100) == 64);  // The floor.
  CHECK(ResolvedMaxOpenFiles(0, -1) == -1);   // Unlimited: every file.
  CHECK(ResolvedMaxOpenFiles(-1, 1024) == -1);
  CHECK(ResolvedMaxOpenFiles(500, 1024) == 500);
}

TEST_CASE("max_open_files below RocksDB's floor is refused, naming the field",
          "[store][open_files]") {
  TempDir tmp;
  for (const int bad : {-2, 1, 19}) {
    INFO(bad);
    StoreOptions options;
    options.path = tmp.Sub("db");
    options.max_open_files = bad;
    const absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
    KV_REQUIRE_CODE(opened, absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(opened.status().message(), "StoreOptions.max_open_files"));
  }
}

}  // namespace
}  // namespace fabrique::kv
