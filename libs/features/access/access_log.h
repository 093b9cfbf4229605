#ifndef FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_H_
#define FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_H_

// The access log of personal data: one hash-chained, durable entry per call and group that read
// a feature classified PERSONAL_DATA (who, for which service, when, which call, which features,
// how many entities or which dataset). It answers "who read it" and proves, by its chain, that
// no entry was changed or removed since.
//
//   ASSIGN_OR_RETURN(auto log, AccessLog::Create({store, clock}));
//   RETURN_IF_ERROR(log->Append(read));            // on the read's path: a queue push
//   ASSIGN_OR_RETURN(auto page, log->List(request));
//
// Appending must not slow the reads it records, some of which run on gRPC's callback threads:
// Append stamps the entry and queues it, and one background writer numbers, chains and writes
// what is queued in batches (one store write per batch). The queue is bounded: when it is full
// (the disk cannot keep up), Append refuses with UNAVAILABLE, and the read it would record must
// be refused too: a read of personal data never goes unrecorded. Close (and the destructor)
// writes everything queued before returning, so a clean shutdown loses nothing; a crash loses at
// most what was queued and not yet written.
//
// Thread-safety: every method may be called from any thread at once, except Close and the
// destructor, which must not overlap with Append.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/core/hash_chain.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct AccessLogOptions {
  // Where entries are kept. Required; not owned; must outlive the AccessLog.
  kv::Store* store = nullptr;
  // Stamps each entry with the time of its read. Not owned. Default: nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Column family of the entries; created when missing. Default: "access_log".
  std::string family = "access_log";
  // Entries queued and not yet written before Append refuses. Default: 65536 (some 20 MiB of
  // entries; at one store write per batch the writer drains far faster than reads fill it).
  int max_queued = 65536;
  // Entries written per store write, at most. Default: 1024.
  int max_batch = 1024;
};

class AccessLog {
 public:
  using Options = AccessLogOptions;

  // Opens the log kept in `options.store` and starts its writer; the chain continues after the
  // last stored entry. INVALID_ARGUMENT without a store or with a bound < 1; DATA_LOSS when the
  // last entry is corrupt.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Create(Options options);
  // Closes the log (see Close), ignoring its error.
  ~AccessLog();

  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Stamps `read` with the time and queues it; sequence and hashes are set when it is written.
  // UNAVAILABLE when the queue is full or the log closed.
  absl::Status Append(v1::PersonalDataRead read) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every entry appended before the call is written. The write's error when the
  // writer cannot write (it retries until Close).
  absl::Status Flush() ABSL_LOCKS_EXCLUDED(mu_);

  // Writes every queued entry, stops the writer and refuses Append from then on. The write's
  // error when entries could not be written. Calling it again is a no-op.
  absl::Status Close() ABSL_LOCKS_EXCLUDED(mu_);

  // The reads of `request.group()`, newest first, only those of `request.feature()` when set.
  // Page size: default 100, at most 1000; the page token is the last sequence of the previous
  // page. INVALID_ARGUMENT without a group or with a bad token.
  absl::StatusOr<v1::ListPersonalDataReadsResponse> List(
      const v1::ListPersonalDataReadsRequest& request) const;

  // Verifies the chain from sequence `start` to `end` (0 = from the first / to the last).
  absl::StatusOr<core::HashChainResult> Verify(int64_t start, int64_t end) const;

 private:
  AccessLog(Options options, kv::ColumnFamily family, int64_t last_sequence, std::string head_hash);

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || closing_; }
  // The writer thread: batches of queued entries until Close.
  void Write() ABSL_LOCKS_EXCLUDED(mu_);
  // Numbers, chains and writes `batch` after the entry (last_sequence_, head_hash_); advances
  // them when the write succeeds.
  absl::Status WriteBatch(std::deque<v1::PersonalDataRead>& batch);

  const Options options_;
  const kv::ColumnFamily family_;
  // The chain's last written entry; only the writer thread touches them once it runs.
  int64_t last_sequence_;
  std::string head_hash_;

  mutable absl::Mutex mu_;
  std::deque<v1::PersonalDataRead> queue_ ABSL_GUARDED_BY(mu_);
  int64_t appended_ ABSL_GUARDED_BY(mu_) = 0;      // Entries ever queued.
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;       // Entries ever written.
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);  // The last failed write's, until one succeeds.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_ACCESS_ACCESS_LOG_H_
