#ifndef FABRIQUE_LIBS_SERVING_PREDICTION_LOGGER_H_
#define FABRIQUE_LIBS_SERVING_PREDICTION_LOGGER_H_

// The prediction log, off the request path: a request thread hands each scored row's record to
// Log, which never blocks and never fails; a sender thread sends the records to the monitor in
// batches, retrying a failed batch a bounded number of times. When the monitor is slow or down
// the bounded queue fills and further records are dropped and counted: a prediction never
// waits for its log.
//
//   ASSIGN_OR_RETURN(auto logger, PredictionLogger::Create({.monitor = &monitor_port}));
//   record.set_prediction_id(NewPredictionId());
//   logger->Log(std::move(record));
//   ...
//   logger->Stop(clock->Now() + absl::Seconds(5));  // On shutdown: flushes what is queued.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/serving/monitor_port.h"

namespace fabrique::serving {

// Returns a new prediction id: unique and sortable by time (a ULID, libs/core/ids.h: 48 bits of
// Unix milliseconds then 80 random bits, 26 characters), so the monitor's store keeps
// predictions in time order and outcomes can name them. From the generator NewPredictionIds
// uses (libs/serving/prediction_ids.h), so a server's prediction ids all increase. Thread-safe.
std::string NewPredictionId();

// Why records were dropped instead of reaching the monitor.
enum class DropReason {
  kQueueFull,   // The queue held max_queue_records (the monitor is slower than the traffic).
  kSendFailed,  // The batch's tries were spent, or the monitor refused it for good.
  kStopped,     // Logged after Stop began, or still queued when Stop's deadline came.
};

// The reason as a metric label value: "queue_full", "send_failed", "stopped".
absl::string_view DropReasonName(DropReason reason);

// Hooks for metrics (e.g. Prometheus counters). Each must be cheap and must not block: OnDropped
// for a record Log refuses (kQueueFull, or kStopped after Stop began) runs on the thread that
// called Log, on a request's path; the others run on the sender thread.
class PredictionLogObserver {
 public:
  virtual ~PredictionLogObserver() = default;
  // A batch was answered by the monitor after `attempts` tries: `sent` records accepted (or
  // already stored), `rejected` refused by the monitor.
  virtual void OnBatchSent(int64_t sent, int64_t rejected, int attempts) {}
  // One try of a batch failed with `status` (retried or not).
  virtual void OnSendError(const absl::Status& status) {}
  // `records` records were dropped for `reason`.
  virtual void OnDropped(DropReason reason, int64_t records) {}
};

// What the logger has done since it was created (a snapshot).
struct PredictionLogCounters {
  int64_t queued = 0;    // Records waiting now (a gauge).
  int64_t logged = 0;    // Records Log took into the queue.
  int64_t sent = 0;      // Records the monitor took: accepted, or already stored (a resend).
  int64_t rejected = 0;  // Records the monitor refused (unknown model, bad shape).
  int64_t dropped_queue_full = 0;
  int64_t dropped_send_failed = 0;
  int64_t dropped_stopped = 0;
  int64_t disabled = 0;     // Records given to Log while logging is off (no monitor).
  int64_t batches = 0;      // Batches the monitor answered.
  int64_t send_errors = 0;  // Failed tries, each retry counted.
  // The last failed try, or the monitor's first reason for its last rejection; "" when none.
  std::string last_error;
};

struct PredictionLoggerOptions {
  // Where the records go; not owned, must outlive the logger. Null = logging off: Log only counts
  // records as `disabled` (they are neither sent nor dropped) and no thread is started.
  MonitorPort* monitor = nullptr;
  // Records waiting, at most; beyond, Log drops the record (kQueueFull). Default 10000.
  int max_queue_records = 10000;
  // Records per batch, at most; a full batch is sent at once. Default 500.
  int batch_records = 500;
  // How long a record waits for its batch to fill before the batch is sent anyway. Default 200 ms.
  absl::Duration flush_interval = absl::Milliseconds(200);
  // Time allowed to one try of a send (its deadline). Default 2 s.
  absl::Duration send_timeout = absl::Seconds(2);
  // Tries per batch, the first included; then the batch is dropped (kSendFailed). Default 3.
  int max_attempts = 3;
  // Wait before the second try; doubled for each later one, up to max_backoff. Default 100 ms.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // Longest wait between two tries. Default 2 s.
  absl::Duration max_backoff = absl::Seconds(2);
  // Metrics hooks; not owned; may be null.
  PredictionLogObserver* observer = nullptr;
  // Times the flushes, the send deadlines and the backoffs; not owned. Default: the real clock.
  core::Clock* clock = core::Clock::Real();
  // Makes the batch ids; not owned. Null = the process-wide generator.
  core::IdGenerator* batch_ids = nullptr;
};

class PredictionLogger {
 public:
  // INVALID_ARGUMENT naming the option when one is out of range.
  static absl::StatusOr<std::unique_ptr<PredictionLogger>> Create(PredictionLoggerOptions options);
  // Stop(now): whatever is still queued is dropped and counted; call Stop with a later deadline
  // first to flush it.
  ~PredictionLogger();
  PredictionLogger(const PredictionLogger&) = delete;
  PredictionLogger& operator=(const PredictionLogger&) = delete;

  // Queues `record` for the monitor. Never blocks (one short lock, the record is moved) and never
  // fails: when the queue is full, or after Stop began, the record is dropped and counted.
  // Thread-safe.
  void Log(v1::PredictionRecord record);

  // Stops taking records (later ones are dropped as kStopped), sends what is queued until
  // `deadline` (on the options' clock; flushes do not wait for flush_interval), then drops and
  // counts the rest. Returns when the sender thread has ended, which may be after `deadline` by
  // the remainder of a send in flight (bounded by its own deadline, which Stop's caps).
  // Idempotent; thread-safe.
  void Stop(absl::Time deadline);

  // Returns what the logger has done so far. Thread-safe.
  PredictionLogCounters Counters() const;

  // Whether records go anywhere (a monitor was given).
  bool enabled() const { return options_.monitor != nullptr; }

 private:
  explicit PredictionLogger(PredictionLoggerOptions options);

  void Run();  // The sender thread.
  // Waits for a batch: full, or flush_interval old, or anything queued once stopping. Empty when
  // the logger is stopping and nothing is left to send.
  std::vector<v1::PredictionRecord> NextBatch();
  // Sends one batch, retrying with the same batch id, then counts how it ended.
  void SendBatch(std::vector<v1::PredictionRecord> records);
  // Waits `backoff` before another try, or less when Stop's deadline comes first.
  void WaitBackoff(absl::Duration backoff);
  // Whether Stop began and its deadline has come.
  bool PastStopDeadline() const;
  absl::Time SendDeadline() const;
  void CountAnswer(const v1::LogPredictionsResponse& response, int64_t records, int attempts);
  void CountSendError(const absl::Status& status);
  void Drop(DropReason reason, int64_t records);
  void CountDropLocked(DropReason reason, int64_t records) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  bool HasWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }
  bool BatchReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PredictionLoggerOptions options_;
  core::IdGenerator* const batch_ids_;

  mutable absl::Mutex mu_;
  std::deque<v1::PredictionRecord> queue_ ABSL_GUARDED_BY(mu_);
  // When the oldest queued record was queued (or when the sender last took a batch, for records
  // left behind by it): the next flush is due flush_interval after it.
  absl::Time oldest_queued_at_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  PredictionLogCounters counters_ ABSL_GUARDED_BY(mu_);

  absl::Mutex join_mu_;  // Lets one Stop join the sender while others wait for it.
  std::thread sender_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_PREDICTION_LOGGER_H_
