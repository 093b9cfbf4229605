// Every RocksDB status code maps to the absl code that tells a caller what to do next.

#include "libs/kv/rocksdb_status.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace fabrique::kv {
namespace {

using rocksdb::Status;
using Sub = rocksdb::Status::SubCode;

TEST_CASE("ToAbslCode maps every RocksDB code", "[rocksdb_status]") {
  const std::vector<std::pair<Status, absl::StatusCode>> cases = {
      {Status::OK(), absl::StatusCode::kOk},
      {Status::NotFound("k"), absl::StatusCode::kNotFound},
      {Status::ColumnFamilyDropped(), absl::StatusCode::kNotFound},
      {Status::Corruption("bad block"), absl::StatusCode::kDataLoss},
      {Status::NotSupported("x"), absl::StatusCode::kUnimplemented},
      {Status::InvalidArgument("x"), absl::StatusCode::kInvalidArgument},
      {Status::IOError("disk"), absl::StatusCode::kUnavailable},
      {Status::IOError(Sub::kPathNotFound), absl::StatusCode::kNotFound},
      {Status::NoSpace(), absl::StatusCode::kResourceExhausted},
      {Status::IOError(Sub::kSpaceLimit), absl::StatusCode::kResourceExhausted},
      {Status::Aborted(Sub::kMemoryLimit), absl::StatusCode::kResourceExhausted},
      {Status::Busy(Sub::kLockLimit), absl::StatusCode::kResourceExhausted},
      {Status::CompactionTooLarge(), absl::StatusCode::kResourceExhausted},
      {Status::MergeInProgress(), absl::StatusCode::kAborted},
      {Status::Incomplete(), absl::StatusCode::kUnavailable},
      {Status::ShutdownInProgress(), absl::StatusCode::kUnavailable},
      {Status::TryAgain(), absl::StatusCode::kUnavailable},
      {Status::TimedOut(), absl::StatusCode::kDeadlineExceeded},
      {Status::Aborted(), absl::StatusCode::kAborted},
      {Status::Busy(), absl::StatusCode::kAborted},
      {Status::Expired(), absl::StatusCode::kAborted},
  };
  for (const auto& [rocks, code] : cases) {
    INFO(rocks.ToString());
    REQUIRE(ToAbslCode(rocks) == code);
  }
}

TEST_CASE("FromRocksDbStatus keeps the context and RocksDB's message", "[rocksdb_status]") {
  const absl::Status status =
      FromRocksDbStatus(Status::Corruption("block checksum mismatch"), "reading /data/kv");
  REQUIRE(status.code() == absl::StatusCode::kDataLoss);
  REQUIRE(absl::StartsWith(status.message(), "reading /data/kv: "));
  REQUIRE(absl::StrContains(status.message(), "block checksum mismatch"));

  REQUIRE(FromRocksDbStatus(Status::OK(), "anything").ok());
}

}  // namespace
}  // namespace fabrique::kv
