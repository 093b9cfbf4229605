#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_MERGE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_MERGE_H_

// The online view's "newest row wins" rule as a RocksDB merge operator, so that ingest can write
// an entity's online row blindly (WriteBatch::Merge) instead of reading the stored row, comparing
// event times and writing under a lock. RocksDB applies the rule when a row is read and when
// compaction meets several versions of it:
//
//   of the stored value and the operands (in write order), the row with the newest event time
//   wins; on equal event times the later write wins, so re-sending a row is idempotent.
//
// Rows are compared by their encoded event time (PeekEventTime) without being decoded. A
// malformed row (which only corruption can produce) counts as older than every valid row, so it
// never wins and never fails a read or a compaction: failing a compaction would stop the store.

#include <memory>
#include <string>

#include "libs/kv/options.h"

namespace rocksdb {
class MergeOperator;
}  // namespace rocksdb

namespace fabrique::features {

// The operator; stateless and thread-safe.
std::shared_ptr<rocksdb::MergeOperator> NewNewestRowMergeOperator();

// Installs the operator on `family` through options->configure_family, keeping any
// configure_family already set. FeatureWriter requires it on its online family.
void InstallOnlineMerge(kv::StoreOptions* options, const std::string& family = "online");

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_MERGE_H_
