#include "libs/monitoring/intake/intake_family_tuning.h"

#include "catch2/catch.hpp"
#include "libs/monitoring/intake/intake_families.h"
#include "rocksdb/options.h"

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

}  // namespace
}  // namespace fabrique::monitoring
