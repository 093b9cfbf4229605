#include "libs/monitoring/intake/intake_family_tuning.h"

#include <string>
#include <utility>

#include "libs/monitoring/intake/intake_families.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"

namespace fabrique::monitoring {

void InstallIntakeFamilyTuning(kv::StoreOptions* options, const IntakeFamilyTuning& tuning) {
  if (tuning.entity_vector_memtable) options->concurrent_memtable_writes = false;
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, tuning](const std::string& name,
                                                 rocksdb::ColumnFamilyOptions* family) {
    if (previous) previous(name, family);
    if (name == kEntityIndexFamily && tuning.entity_vector_memtable) {
      family->memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    } else if (name == kPredictionIdsFamily && tuning.id_bloom_ratio > 0) {
      family->memtable_whole_key_filtering = true;
      family->memtable_prefix_bloom_size_ratio = tuning.id_bloom_ratio;
    }
  };
}

}  // namespace fabrique::monitoring
