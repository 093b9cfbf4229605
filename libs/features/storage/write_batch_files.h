#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_WRITE_BATCH_FILES_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_WRITE_BATCH_FILES_H_

// A kv::WriteBatch written into an AtomicIngest's files, so that its operations are ingested in
// the same atomic step as the files instead of being committed through the write-ahead log
// before or after them. Bulk loads use it for the writes that must commit with their rows (the
// tiles of the aggregation groups they feed).
//
// The batch's operations are sorted by key within each family (an SST file is in key order);
// their order in the batch only matters between operations on the same key, which is why such
// batches are refused (see below).

#include "absl/status/statusor.h"
#include "libs/features/storage/atomic_ingest.h"
#include "libs/kv/store.h"
#include "libs/kv/write_batch.h"

namespace fabrique::features {

// Adds every operation of `batch` (a batch of `store`) to the files of `ingest`. Returns true
// when it did; false, adding nothing, when the batch cannot be written as files: an operation
// other than Put, Merge and Delete (a range deletion), two operations on one key of a family (a
// file holds one entry per key), or a family that `ingest` already has a file of (its caller
// writes that file in key order itself). INVALID_ARGUMENT for a batch whose status() is not OK or
// that belongs to another store.
absl::StatusOr<bool> AddWriteBatchToIngest(kv::Store& store, kv::WriteBatch& batch,
                                           AtomicIngest* ingest);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_WRITE_BATCH_FILES_H_
