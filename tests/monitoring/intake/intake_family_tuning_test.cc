#include "libs/monitoring/intake/intake_family_tuning.h"

#include <cstdio>
#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "libs/kv/store.h"
#include "libs/monitoring/intake/intake_families.h"
#include "rocksdb/options.h"
#include "tests/util/test_util.h"

namespace fabrique::monitoring {
namespace {

rocksdb::ColumnFamilyOptions Configured(const IntakeFamilyTuning& tuning, const char* family) {
  kv::StoreOptions options;
  InstallIntakeFamilyTuning(&options, tuning);
  rocksdb::ColumnFamilyOptions configured;
  configured.compression = rocksdb::kSnappyCompression;
  options.configure_family(family, &configured);
  return configured;
}

TEST_CASE("The per-record families leave level 0 and the base level uncompressed") {
  for (const char* family : {kPredictionsFamily, kPredictionIdsFamily, kEntityIndexFamily}) {
    const rocksdb::ColumnFamilyOptions configured = Configured({}, family);
    REQUIRE(configured.compression_per_level.size() == static_cast<size_t>(configured.num_levels));
    CHECK(configured.compression_per_level[0] == rocksdb::kNoCompression);
    CHECK(configured.compression_per_level[1] == rocksdb::kNoCompression);
    for (size_t level = 2; level < configured.compression_per_level.size(); ++level) {
      CHECK(configured.compression_per_level[level] == rocksdb::kSnappyCompression);
    }
  }
}

TEST_CASE("Other families and the option off keep one compression for every level") {
  CHECK(Configured({}, kWindowsFamily).compression_per_level.empty());
  IntakeFamilyTuning off;
  off.fresh_levels_uncompressed = false;
  CHECK(Configured(off, kPredictionsFamily).compression_per_level.empty());
}

constexpr int kIdsPerFile = 30000;

// Writes `files` files of ids into the prediction ids family (which keeps its bloom filter) and
// returns the memory their open files hold outside the block cache.
uint64_t TableReaderBytesAfterWrites(const IntakeFamilyTuning& tuning, int files) {
  testing::TempDir dir;
  kv::StoreOptions options;
  options.path = dir.path();
  options.column_families = {kPredictionIdsFamily};
  options.block_cache_bytes = size_t{8} << 20;
  InstallIntakeFamilyTuning(&options, tuning);
  auto store = kv::Store::Open(std::move(options));
  REQUIRE(store.ok());
  const kv::ColumnFamily ids = *(*store)->Family(kPredictionIdsFamily);
  char key[32];
  for (int file = 0; file < files; ++file) {
    kv::WriteBatch batch;
    for (int i = 0; i < kIdsPerFile; ++i) {
      std::snprintf(key, sizeof(key), "01J%06d%08d", file, i);
      batch.Put(ids, key, "v");
    }
    REQUIRE((*store)->Write(batch).ok());
    REQUIRE((*store)->Flush().ok());
  }
  // Every id is still found through the cached indexes and filters; an absent one is not.
  for (int file = 0; file < files; ++file) {
    std::snprintf(key, sizeof(key), "01J%06d%08d", file, kIdsPerFile - 1);
    CHECK((*store)->Get(ids, key).ok());
  }
  CHECK(absl::IsNotFound((*store)->Get(ids, "01J99999999999999").status()));
  auto bytes = (*store)->IntProperty(ids, "rocksdb.estimate-table-readers-mem");
  REQUIRE(bytes.ok());
  return *bytes;
}

TEST_CASE("Indexes and filters live in the block cache, so they do not grow with the files") {
  IntakeFamilyTuning off;
  off.metadata_in_cache = false;
  const uint64_t beside = TableReaderBytesAfterWrites(off, 6);
  const uint64_t cached = TableReaderBytesAfterWrites({}, 6);
  INFO("held beside the cache: " << beside << " bytes; with the tuning: " << cached);
  // Held beside the cache, each file's filter and index grow with its ids (some 40 KiB for 30,000);
  // in it, what stays outside is each open file's fixed part and pinned top level.
  CHECK(beside > 6 * 30000);
  CHECK(cached * 10 < beside);
}

}  // namespace
}  // namespace fabrique::monitoring
