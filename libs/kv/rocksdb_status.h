#ifndef FABRIQUE_LIBS_KV_ROCKSDB_STATUS_H_
#define FABRIQUE_LIBS_KV_ROCKSDB_STATUS_H_

// The one place where RocksDB's statuses become absl::Status. Everything in libs/kv that calls
// RocksDB passes the result through FromRocksDbStatus, so callers only ever see absl codes chosen
// by what they should do next (see STYLE.md, "One boundary for errors").

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace fabrique::kv {

// Returns the absl code that tells a caller how to react to `status`:
//   NotFound, ColumnFamilyDropped, IOError(PathNotFound)   -> NOT_FOUND
//   Corruption                                            -> DATA_LOSS
//   InvalidArgument                                       -> INVALID_ARGUMENT
//   NotSupported                                          -> UNIMPLEMENTED
//   IOError(NoSpace/SpaceLimit), CompactionTooLarge,
//   any code with subcode MemoryLimit/LockLimit           -> RESOURCE_EXHAUSTED
//   IOError (others), TryAgain, ShutdownInProgress,
//   Incomplete                                            -> UNAVAILABLE (retry the call later)
//   Busy, Aborted, Expired, MergeInProgress               -> ABORTED (retry the transaction)
//   TimedOut                                              -> DEADLINE_EXCEEDED
absl::StatusCode ToAbslCode(const rocksdb::Status& status);

// Converts `status` to an absl::Status with the mapped code and the message
// "<context>: <rocksdb message>", so the error names what failed (a path, a column family).
// OK maps to OK and the context is dropped.
absl::Status FromRocksDbStatus(const rocksdb::Status& status, absl::string_view context);

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_ROCKSDB_STATUS_H_
