#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_STORE_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_STORE_H_

// IntakeStore: where the monitor keeps what inference servers log (prediction records) and the
// ground truth that arrives later (outcomes), joined for back-testing. It is the storage core of
// LogPredictions and LogOutcomes, and knows nothing of gRPC.
//
//   IntakeOptions options;
//   options.dir = data_dir + "/intake";
//   options.known = [&](absl::string_view model, int64_t version) { ... };
//   ASSIGN_OR_RETURN(std::unique_ptr<IntakeStore> intake, IntakeStore::Open(std::move(options)));
//   ASSIGN_OR_RETURN(PredictionIntakeResult result,
//                    intake->AppendPredictions(request.batch_id(), request.predictions()));
//
// Every append is idempotent by batch id (a replay answers the first call's result and stores
// nothing), commits in one RocksDB write batch, and is fsynced before it returns. An outcome is
// joined to its prediction by prediction id, or by entity: the latest prediction of the model
// for the entity key at or before the outcome's event time. An outcome whose prediction has not
// arrived waits ("pending") for at most max_label_delay and is joined when the prediction comes.
// Everything older than the retention period is dropped by compaction (intake_retention.h).
//
// Thread-safety: every method may be called from any thread. Appends of predictions run
// concurrently (their batch ids and prediction ids are claimed in memory while in flight);
// appends of outcomes run alone; scans run beside them and see whole batches or none.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/kv/iterator.h"
#include "libs/kv/store.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/intake/intake_options.h"
#include "libs/monitoring/intake/intake_results.h"
#include "libs/monitoring/intake/intake_values.h"
#include "libs/monitoring/intake/prediction_observer.h"

namespace fabrique::monitoring {

// A prediction with the outcome joined to it.
struct JoinedPrediction {
  StoredPrediction prediction;
  v1::Outcome outcome;
};

class IntakeStore {
 public:
  // The task (and so the label type) of a model; TASK_UNSPECIFIED when unknown, which accepts
  // any single-valued label.
  using LabelTypeOf = absl::FunctionRef<v1::Task(absl::string_view model)>;
  // Knows no model: checks labels for shape only.
  static v1::Task AnyLabelType(absl::string_view) { return v1::TASK_UNSPECIFIED; }

  // Opens (or creates) the intake database in options.dir. Errors: INVALID_ARGUMENT for an empty
  // dir or a negative period; otherwise those of kv::Store::Open (UNAVAILABLE when another
  // process holds the database, DATA_LOSS when it is corrupt).
  static absl::StatusOr<std::unique_ptr<IntakeStore>> Open(IntakeOptions options);

  IntakeStore(const IntakeStore&) = delete;
  IntakeStore& operator=(const IntakeStore&) = delete;
  ~IntakeStore();

  // Stores a batch of prediction records, and joins the outcomes that were waiting for them.
  // Rows without a prediction id, model, version or time are refused with their index and
  // reason; the rest of the batch is stored. An outcome that waited by prediction id had its
  // label checked only for shape: it is checked against label_type_of(model) now, and one that
  // does not fit is dropped and counted as outcomes_refused. A row whose prediction id is stored,
  // or held by a concurrent append, counts as a duplicate (should that append fail, its caller's
  // retry stores the id); a replay of a batch id still in flight waits for it, then answers its
  // result. INVALID_ARGUMENT for an empty batch id; UNAVAILABLE (retry the call: it is
  // idempotent) or DATA_LOSS from storage.
  //
  // Durability: concurrent batches are written side by side and fsynced after, so that they
  // share one fsync (RocksDB groups concurrent writes and syncs). With `durability` kNoSync the
  // fsync is left to the caller, who must call SyncLog() before telling anyone the batch is stored:
  // a stream of batches answered once pays one fsync. Either way a crash before the fsync loses the
  // batch and what it added to the windows together, and its id is forgotten, so a retry stores it.
  absl::StatusOr<PredictionIntakeResult> AppendPredictions(
      absl::string_view batch_id, absl::Span<const v1::PredictionRecord> records,
      LabelTypeOf label_type_of = AnyLabelType, kv::SyncMode durability = kv::SyncMode::kSync);
  // The same for records held by pointer (a parsed request's, which its next read reuses).
  absl::StatusOr<PredictionIntakeResult> AppendPredictions(
      absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
      LabelTypeOf label_type_of = AnyLabelType, kv::SyncMode durability = kv::SyncMode::kSync);

  // Fsyncs every append made so far. UNAVAILABLE or DATA_LOSS from storage.
  absl::Status SyncLog();

  // Stores a batch of outcomes: each is joined to its prediction now, kept pending until it
  // comes, or refused with its index and reason (no join key, a label that does not fit
  // label_type_of(model), too late to be joined). For an outcome by prediction id whose
  // prediction has not arrived, the model is not known yet: only the label's shape is checked
  // here, its type when the prediction arrives.
  // Errors as AppendPredictions.
  absl::StatusOr<OutcomeIntakeResult> AppendOutcomes(absl::string_view batch_id,
                                                     absl::Span<const v1::Outcome> outcomes,
                                                     LabelTypeOf label_type_of);

  // Calls `visit` with each prediction of `model` `version` scored in [from, to), in time order
  // (then by prediction id), until it returns false.
  absl::Status ScanPredictions(absl::string_view model, int64_t version, absl::Time from,
                               absl::Time to,
                               absl::FunctionRef<bool(const StoredPrediction&)> visit) const;
  // The time of each of those predictions, in order, read from the keys alone (no record is
  // decoded): what counting them needs, at a fraction of the cost.
  absl::Status ScanPredictionTimes(absl::string_view model, int64_t version, absl::Time from,
                                   absl::Time to, absl::FunctionRef<void(absl::Time)> visit) const;
  // The same for the predictions that have an outcome joined, with it.
  absl::Status ScanJoined(absl::string_view model, int64_t version, absl::Time from, absl::Time to,
                          absl::FunctionRef<bool(const JoinedPrediction&)> visit) const;

  // The model of the stored prediction with this id, or nullopt when none is stored: lets the
  // monitor find the squad an outcome by prediction id concerns before it is appended.
  absl::StatusOr<std::optional<std::string>> ModelOfPrediction(
      absl::string_view prediction_id) const;

  // Outcomes waiting for their prediction and still within the maximum label delay (a gauge
  // for the monitor's metrics). Reads the whole pending family.
  absl::StatusOr<int64_t> PendingOutcomeCount() const;

  // Tells `observer` (not owned; nullptr for none) of the records each later append stores,
  // within its write (prediction_observer.h). It must be set back to nullptr before it dies.
  void SetObserver(PredictionObserver* observer);

  // The intake database, for the parts of the monitor kept beside the records (the live
  // windows, in their own families: intake_families.h).
  kv::Store& database() { return *store_; }

  // Compacts every intake family now, so that retention drops what it expires. Slow on a large
  // database; meant for maintenance and tests, since RocksDB compacts on its own as data grows.
  absl::Status Compact();

 private:
  // What a batch of predictions adds, for joining pending outcomes to it before it is written.
  struct ArrivedPrediction;
  // The state of one AppendOutcomes call while its rows are read.
  struct OutcomeBatch;

  IntakeStore(IntakeOptions options, std::unique_ptr<kv::Store> store);
  absl::Status ResolveFamilies();

  // The stored result of an earlier batch with this id, or nullopt.
  absl::StatusOr<std::optional<std::string>> StoredBatch(BatchKind kind,
                                                         absl::string_view batch_id) const;
  // The key of the prediction with this id, or nullopt.
  absl::StatusOr<std::optional<std::string>> FindById(absl::string_view prediction_id) const;
  // The key of the latest prediction of `model` for the entity key at or before the time, read
  // with `entities`, an iterator over the whole entity index (one per batch of outcomes: see
  // intake_family_tuning.h).
  absl::StatusOr<std::optional<std::string>> FindLatestForEntity(const v1::EntityEventKey& key,
                                                                 kv::Iterator& entities) const;
  struct LatestPrediction {
    int64_t time_micros = 0;
    std::string prediction_id;
    std::string prediction_key;
  };
  // The latest prediction indexed under (model, entity, entity key) at or before the time; with
  // `sole_only`, only if it named that entity alone.
  absl::StatusOr<std::optional<LatestPrediction>> LatestUnder(absl::string_view model,
                                                              absl::string_view entity,
                                                              absl::string_view entity_key,
                                                              int64_t time_micros, bool sole_only,
                                                              kv::Iterator& entities) const;
  absl::StatusOr<bool> HasOutcome(const std::string& prediction_key) const;
  // Whether a pending outcome whose age counts from `time_micros` may still be joined.
  bool StillPending(int64_t time_micros, absl::Time now) const;

  // AppendOutcomes for one row, and for one that waits for its prediction.
  absl::Status AppendOutcome(int64_t row, const v1::Outcome& outcome, LabelTypeOf label_type_of,
                             OutcomeBatch& state);
  absl::Status AppendPendingOutcome(int64_t row, const v1::Outcome& outcome, OutcomeBatch& state);
  // What a batch's rows add to the predictions family and its indexes (by id, by each entity),
  // prepared without the write lock into `prepared`, which is empty (prepared_batch.h).
  struct PreparedBatch;
  void Prepare(absl::Span<const v1::PredictionRecord* const> records,
               PreparedBatch& prepared) const;
  // A spare prepared batch, or a new one; and back to the spares once written.
  std::unique_ptr<PreparedBatch> TakePreparedBatch();
  void KeepPreparedBatch(std::unique_ptr<PreparedBatch> prepared);
  // Joins the pending outcomes that the batch's predictions answer, adding to `batch`: those
  // by prediction id, then those by entity. `answered` holds the prediction keys given an
  // outcome so far (one outcome per prediction).
  absl::Status JoinPending(absl::Span<const ArrivedPrediction> arrived, LabelTypeOf label_type_of,
                           absl::Time now, kv::WriteBatch& batch, PredictionIntakeResult& result);
  absl::Status JoinPendingById(absl::Span<const ArrivedPrediction> arrived,
                               LabelTypeOf label_type_of, absl::Time now, kv::WriteBatch& batch,
                               absl::flat_hash_set<std::string>& answered, int64_t& refused) const;
  absl::Status JoinPendingByEntity(absl::Span<const ArrivedPrediction> arrived, absl::Time now,
                                   kv::WriteBatch& batch,
                                   absl::flat_hash_set<std::string>& answered) const;

  const IntakeOptions options_;
  const core::Clock* const clock_;
  std::unique_ptr<kv::Store> store_;
  // Resolved once by Open (see intake_families.h).
  kv::ColumnFamily predictions_;
  kv::ColumnFamily prediction_ids_;
  kv::ColumnFamily entity_index_;
  kv::ColumnFamily joined_;
  kv::ColumnFamily pending_;
  kv::ColumnFamily batches_;
  // Appends a batch of predictions: claims, reads, writes; the fsync is the caller's.
  absl::StatusOr<PredictionIntakeResult> AppendPredictionsShared(
      absl::string_view batch_id, absl::Span<const v1::PredictionRecord* const> records,
      PreparedBatch& prepared, LabelTypeOf label_type_of) ABSL_SHARED_LOCKS_REQUIRED(append_mutex_);
  // Marks a batch id in flight, waiting while another append holds it.
  void ClaimBatch(absl::string_view batch_id);
  // Ends what an append claimed, once its write is readable (or failed).
  void ReleaseClaims(absl::string_view batch_id,
                     absl::Span<const absl::string_view> prediction_ids);
  // Whether the pending family holds any key in `range` (most batches find none to join).
  absl::StatusOr<bool> AnyPending(const kv::KeyRange& range) const;

  // Prediction appends hold it shared, from their reads to their write, so that several write
  // at once; outcome appends hold it alone, since they read whether a prediction is stored and
  // what waits, which an append in flight is changing.
  absl::Mutex append_mutex_;
  PredictionObserver* observer_ ABSL_GUARDED_BY(append_mutex_) = nullptr;
  // The batch ids and prediction ids of the prediction appends in flight, so that two of them
  // never both accept one: each is claimed before the store is read for it, and released once
  // the write is readable.
  absl::Mutex claims_mutex_;
  absl::flat_hash_set<std::string> batches_in_flight_ ABSL_GUARDED_BY(claims_mutex_);
  // The ids are views into the records of the appends that claimed them, which outlive their
  // claims: claiming a batch's ids copies none.
  absl::flat_hash_set<absl::string_view> ids_in_flight_ ABSL_GUARDED_BY(claims_mutex_);
  // Prepared batches kept empty for the next appends, with their buffers: a batch's are hundreds
  // of kilobytes, and allocated afresh for every append they left each gRPC thread's malloc arena
  // holding its own (peak RSS up by 30 MiB).
  absl::Mutex spares_mutex_;
  std::vector<std::unique_ptr<PreparedBatch>> spare_batches_ ABSL_GUARDED_BY(spares_mutex_);
  // Taken by the prediction appends that join waiting outcomes, from their reads to their
  // write, so that one outcome is never joined by two of them.
  absl::Mutex join_mutex_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_STORE_H_
