#ifndef FABRIQUE_LIBS_REGISTRY_REGISTRY_LOG_H_
#define FABRIQUE_LIBS_REGISTRY_REGISTRY_LOG_H_

// RegistryLog: the registry's two ordered logs, written in the same kv batch as the mutation they
// describe, so that no change is ever visible without its trail:
//
//   the audit trail   one AuditEntry per mutation (who, what, when, before, after), sequence
//                     1, 2, ... and hash-chained (audit_chain.h);
//   the change feed   one WatchEvent per change, revision 1, 2, ... strictly increasing across
//                     the whole registry: a watcher that resumes after revision R reads every
//                     event > R in order, with no gap and no duplicate.
//
// A mutation stages its records into the caller's batch (Stage), the caller commits the batch,
// then calls Advance with what was staged; if the commit fails nothing advances. Callers
// serialize their mutations (the registry holds one writer lock); readers may run at any time.
//
// Keys in its family: ("a", sequence) -> AuditEntry, ("w", revision) -> WatchEvent.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/kv/write_batch.h"
#include "libs/registry/audit_chain.h"

namespace fabrique::registry {

// What one mutation records.
struct Mutation {
  v1::Principal actor;
  std::string action;       // e.g. "alias.set".
  std::string target;       // e.g. "models/fraud/aliases/production".
  std::string before_json;  // "" = none.
  std::string after_json;   // "" = none.
  // Its changes, in order; revision, time and actor are filled in.
  std::vector<v1::WatchEvent> events;
  std::string reason;  // Why, as the caller said; "" = not given.
};

// A mutation's records, staged in a batch and not yet committed.
struct Staged {
  v1::AuditEntry entry;
  int64_t last_revision = 0;
};

class RegistryLog {
 public:
  struct Options {
    // The store. Not owned; must outlive the log. Required.
    kv::Store* store = nullptr;
    // Column family of both logs; created when missing. Default: "registry_log".
    std::string family = "registry_log";
    // Dates the records. Not owned. Default: nullptr = the real clock.
    core::Clock* clock = nullptr;
  };

  // Opens the logs and finds their heads (the last entry of each).
  static absl::StatusOr<std::unique_ptr<RegistryLog>> Create(Options options);

  // Adds `mutation`'s audit entry and events to `batch`, numbered after the current heads.
  absl::StatusOr<Staged> Stage(Mutation mutation, kv::WriteBatch* batch) const;
  // Moves the heads past `staged` once its batch is committed; wakes waiting watchers.
  void Advance(const Staged& staged);

  // The newest revision (0 before the first change).
  int64_t revision() const;
  // Blocks until the revision passes `after`, `timeout` ends or the log is interrupted; returns
  // the revision then.
  int64_t WaitForRevisionAfter(int64_t after, absl::Duration timeout) const;
  // Callers blocked in WaitForRevisionAfter now (lets a test change the log only once a watcher
  // is provably waiting).
  int waiters() const;
  // Wakes every waiter and makes later waits return at once: the server is stopping, and its
  // watch streams should end now rather than at the end of the shutdown grace.
  void Interrupt();
  bool interrupted() const;

  // Visits the events with revision > `after`, in order, at most `limit` (0 = no limit); stops
  // early when `visit` returns false.
  absl::Status EventsAfter(int64_t after, int64_t limit,
                           absl::FunctionRef<bool(const v1::WatchEvent&)> visit) const;
  // Visits audit entries from sequence `start` (0 or 1 = the first), in order, up to `limit`.
  absl::Status AuditEntries(int64_t start, int64_t limit,
                            absl::FunctionRef<bool(const v1::AuditEntry&)> visit) const;
  // Verifies the chain over sequences [start, end] (0 = first / last).
  absl::StatusOr<AuditChainResult> VerifyAudit(int64_t start, int64_t end) const;

 private:
  RegistryLog(Options options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family) {}
  absl::Status LoadHeads();
  // Visits the records of `range` in key order, parsed as `Message`, at most `limit` (0 = all).
  template <typename Message>
  absl::Status ScanRecords(const kv::KeyRange& range, absl::string_view what, int64_t limit,
                           absl::FunctionRef<bool(const Message&)> visit) const;

  const Options options_;
  const kv::ColumnFamily family_;
  mutable absl::Mutex mu_;
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::string head_hash_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
  mutable int waiters_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_REGISTRY_LOG_H_
