#ifndef FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_STORE_H_
#define FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_STORE_H_

// WindowStore: the live windows (window_source.h) of every model version, built as the intake
// stores prediction records and kept in the intake's own database.
//
//   ASSIGN_OR_RETURN(auto intake, IntakeStore::Open(std::move(intake_options)));
//   WindowOptions options;
//   options.window = absl::Hours(1);
//   ASSIGN_OR_RETURN(auto windows, WindowStore::Open(intake.get(), options));
//   ... intake->AppendPredictions(...) ...   // the windows count what was stored
//   ASSIGN_OR_RETURN(LiveSummaries live, windows->Summaries("churn", 3, from, to));
//
// Key: (model, version, window start), the start being the record's time floored to the window
// width. Records of versions the registry does not know are summarised like the others.
//
// Durability, exactly once, without re-scanning windows of raw rows: the store watches the
// intake's writes (prediction_observer.h). With each write that stores records, the same
// RocksDB batch gets a journal entry naming their keys; once the write is durable the records
// are added to in-memory summaries of the windows they fall in (the "deltas"). Every
// persist_interval (or persist_after_records records) the deltas are persisted: each is merged
// into the window's stored summary, and the journal entries they cover are deleted, in one
// write. So a record is always either in a stored summary or named by the journal, never both;
// after a crash, Open re-adds the records the journal names (at most what one persist interval
// saw) and nothing else. Nothing is lost, nothing counted twice, and a restart costs a bounded
// replay, not a scan of every window.
//
// Memory: only the deltas, i.e. the windows that received records since the last persist, each
// O(columns x sketch size) whatever the traffic; every older window is read from RocksDB.
// Retention: windows are in intake families, so the intake's retention filter drops them once
// their end is older than the retention.
//
// A window that was persisted with another width (after --window changed) is still read whole,
// by its own start and end; it is found when it starts at most one current width before a range.
//
// Thread-safety: every method may be called from any thread. Reads take a RocksDB snapshot and a
// copy of the deltas they need, so they never hold up the intake while they read the disk.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/prediction_observer.h"
#include "libs/monitoring/windows/window_keys.h"
#include "libs/monitoring/windows/window_source.h"
#include "libs/monitoring/windows/window_summary.h"

namespace fabrique::monitoring {

struct WindowOptions {
  // Width of the tumbling windows; at least one second. Default: 1 hour.
  absl::Duration window = absl::Hours(1);
  // How often the in-memory windows are persisted (and evicted): at the first write after this
  // much time. Bounds what a restart replays. Default: 30 s.
  absl::Duration persist_interval = absl::Seconds(30);
  // Persists also once this many records were added since the last persist, in records.
  // Default: 1,000,000.
  int64_t persist_after_records = 1'000'000;
  // Clock for the persist interval. Not owned. Default: nullptr = core::Clock::Real().
  const core::Clock* clock = nullptr;
};

class WindowStore final : public WindowSource, private PredictionObserver {
 public:
  // Opens the windows in `intake`'s database (not owned; it must outlive the store), re-adds the
  // records the journal names, and starts watching the intake's writes. INVALID_ARGUMENT for a
  // window under one second or a null intake; DATA_LOSS for corrupt windows or journal.
  static absl::StatusOr<std::unique_ptr<WindowStore>> Open(IntakeStore* intake,
                                                           WindowOptions options);

  WindowStore(const WindowStore&) = delete;
  WindowStore& operator=(const WindowStore&) = delete;
  // Stops watching the intake. Does not persist: call Persist() on a clean stop; without it,
  // the next Open replays the journal (as after a crash).
  ~WindowStore() override;

  absl::Duration window() const override { return options_.window; }
  absl::StatusOr<LiveSummaries> Summaries(absl::string_view model, int64_t version, absl::Time from,
                                          absl::Time to) const override;
  absl::StatusOr<std::vector<ActiveVersion>> ActiveVersions(absl::Time from,
                                                            absl::Time to) const override;

  // Persists every in-memory window and evicts it. Errors of the write (UNAVAILABLE, DATA_LOSS);
  // on error the windows stay in memory and the journal keeps their records.
  absl::Status Persist();

  // Windows held in memory now, and their bytes (roughly): for tests and metrics.
  int64_t windows_in_memory() const;
  size_t memory_bytes() const;
  // The start of the window `time` falls in.
  absl::Time WindowStart(absl::Time time) const;

 private:
  WindowStore(IntakeStore* intake, WindowOptions options);
  absl::Status ResolveFamilies();
  // Re-adds the records of every journal entry (after a crash or an unclean stop).
  absl::Status Replay();

  uint64_t Staged(absl::Span<const AcceptedPrediction> accepted, kv::WriteBatch& batch) override;
  void Committed(uint64_t token, absl::Span<const AcceptedPrediction> accepted) override;
  void Abandoned(uint64_t token) override;

  // Counts one record in its window's delta.
  void AddLocked(const v1::PredictionRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  int64_t WindowStartMicros(int64_t time_micros) const;

  const WindowOptions options_;
  const int64_t width_micros_;
  IntakeStore* const intake_;
  kv::Store& db_;
  kv::ColumnFamily predictions_;
  kv::ColumnFamily windows_;
  kv::ColumnFamily index_;
  kv::ColumnFamily journal_;

  mutable absl::Mutex mutex_;
  // Records per window since the last persist.
  std::map<WindowId, WindowSummary> deltas_ ABSL_GUARDED_BY(mutex_);
  // The delta the last record went to: records of a batch mostly share one.
  const WindowId* last_id_ ABSL_GUARDED_BY(mutex_) = nullptr;
  WindowSummary* last_delta_ ABSL_GUARDED_BY(mutex_) = nullptr;
  // Journal sequences: the next to give, and those whose records are in deltas_ (their entries
  // are deleted when the deltas are persisted). Batches commit concurrently and in any order,
  // so a persist deletes exactly the entries it merged, never a range: an entry staged earlier
  // may still be on its way to the store, or applied and not merged yet.
  uint64_t next_sequence_ ABSL_GUARDED_BY(mutex_) = 1;
  std::vector<uint64_t> merged_sequences_ ABSL_GUARDED_BY(mutex_);
  int64_t unpersisted_records_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Time last_persist_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_STORE_H_
