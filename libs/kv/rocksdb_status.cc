#include "libs/kv/rocksdb_status.h"

#include "absl/strings/str_cat.h"

namespace fabrique::kv {
namespace {

using Code = rocksdb::Status::Code;
using SubCode = rocksdb::Status::SubCode;

// Subcodes that mean "a limit was hit", whatever the main code: the caller should slow down or
// free resources rather than retry at once.
bool IsLimitSubcode(SubCode subcode) {
  return subcode == SubCode::kNoSpace || subcode == SubCode::kSpaceLimit ||
         subcode == SubCode::kMemoryLimit || subcode == SubCode::kLockLimit;
}

}  // namespace

absl::StatusCode ToAbslCode(const rocksdb::Status& status) {
  if (status.ok()) return absl::StatusCode::kOk;
  if (IsLimitSubcode(status.subcode())) return absl::StatusCode::kResourceExhausted;
  switch (status.code()) {
    case Code::kOk:
      return absl::StatusCode::kOk;
    case Code::kNotFound:
    case Code::kColumnFamilyDropped:
      return absl::StatusCode::kNotFound;
    case Code::kCorruption:
      return absl::StatusCode::kDataLoss;
    case Code::kNotSupported:
      return absl::StatusCode::kUnimplemented;
    case Code::kInvalidArgument:
      return absl::StatusCode::kInvalidArgument;
    case Code::kIOError:
      // A missing file or directory is something to fix, not to retry; other I/O faults (a
      // flaky disk, a lock still held by a pod that is shutting down) may pass.
      if (status.subcode() == SubCode::kPathNotFound) return absl::StatusCode::kNotFound;
      return absl::StatusCode::kUnavailable;
    case Code::kCompactionTooLarge:
      return absl::StatusCode::kResourceExhausted;
    case Code::kIncomplete:
    case Code::kShutdownInProgress:
    case Code::kTryAgain:
      return absl::StatusCode::kUnavailable;
    case Code::kTimedOut:
      return absl::StatusCode::kDeadlineExceeded;
    case Code::kBusy:
    case Code::kAborted:
    case Code::kExpired:
    case Code::kMergeInProgress:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status FromRocksDbStatus(const rocksdb::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(ToAbslCode(status), absl::StrCat(context, ": ", status.ToString()));
}

}  // namespace fabrique::kv
