#include "libs/serving/prediction_logger.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/serving/prediction_ids.h"

namespace fabrique::serving {
namespace {

// Codes after which the same batch may succeed later: the monitor did not take it (UNAVAILABLE,
// RESOURCE_EXHAUSTED, ABORTED) or may have (DEADLINE_EXCEEDED: the batch id makes a resend
// harmless). Others say the batch or the caller is wrong; resending would not help.
bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kResourceExhausted || code == absl::StatusCode::kAborted;
}

absl::Status CheckOptions(const PredictionLoggerOptions& options) {
  const auto invalid = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("prediction logger: ", what));
  };
  if (options.max_queue_records < 1) {
    return invalid(
        absl::StrCat("max_queue_records must be at least 1, got ", options.max_queue_records));
  }
  if (options.batch_records < 1) {
    return invalid(absl::StrCat("batch_records must be at least 1, got ", options.batch_records));
  }
  if (options.max_attempts < 1) {
    return invalid(absl::StrCat("max_attempts must be at least 1, got ", options.max_attempts));
  }
  if (options.flush_interval <= absl::ZeroDuration()) {
    return invalid(absl::StrCat("flush_interval must be positive, got ",
                                absl::FormatDuration(options.flush_interval)));
  }
  if (options.send_timeout <= absl::ZeroDuration()) {
    return invalid(absl::StrCat("send_timeout must be positive, got ",
                                absl::FormatDuration(options.send_timeout)));
  }
  if (options.initial_backoff < absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return invalid(absl::StrCat("initial_backoff (", absl::FormatDuration(options.initial_backoff),
                                ") must be at least 0 and at most max_backoff (",
                                absl::FormatDuration(options.max_backoff), ")"));
  }
  if (options.clock == nullptr) return invalid("clock must not be null");
  return absl::OkStatus();
}

}  // namespace

std::string NewPredictionId() { return std::move(NewPredictionIds(1).front()); }

absl::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kQueueFull:
      return "queue_full";
    case DropReason::kSendFailed:
      return "send_failed";
    case DropReason::kStopped:
      return "stopped";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<PredictionLogger>> PredictionLogger::Create(
    PredictionLoggerOptions options) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  std::unique_ptr<PredictionLogger> logger(new PredictionLogger(std::move(options)));
  if (logger->enabled()) {
    absl::MutexLock lock(&logger->join_mu_);
    logger->sender_ = std::thread([raw = logger.get()] { raw->Run(); });
  }
  return logger;
}

PredictionLogger::PredictionLogger(PredictionLoggerOptions options)
    : options_(std::move(options)),
      batch_ids_(options_.batch_ids != nullptr ? options_.batch_ids
                                               : &core::IdGenerator::Default()) {}

PredictionLogger::~PredictionLogger() { Stop(options_.clock->Now()); }

void PredictionLogger::Log(v1::PredictionRecord record) {
  DropReason reason;
  {
    absl::MutexLock lock(&mu_);
    if (!enabled()) {
      ++counters_.disabled;
      return;
    }
    if (!stopping_ && queue_.size() < static_cast<size_t>(options_.max_queue_records)) {
      if (queue_.empty()) oldest_queued_at_ = options_.clock->Now();
      queue_.push_back(std::move(record));
      ++counters_.logged;
      return;
    }
    reason = stopping_ ? DropReason::kStopped : DropReason::kQueueFull;
    CountDropLocked(reason, 1);
  }
  if (options_.observer != nullptr) options_.observer->OnDropped(reason, 1);
}

void PredictionLogger::Stop(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    // A second Stop may only hasten the first.
    stop_deadline_ = stopping_ ? std::min(stop_deadline_, deadline) : deadline;
    stopping_ = true;
  }
  absl::MutexLock lock(&join_mu_);
  if (sender_.joinable()) sender_.join();
}

PredictionLogCounters PredictionLogger::Counters() const {
  absl::MutexLock lock(&mu_);
  PredictionLogCounters counters = counters_;
  counters.queued = static_cast<int64_t>(queue_.size());
  return counters;
}

void PredictionLogger::Run() {
  while (true) {
    std::vector<v1::PredictionRecord> batch = NextBatch();
    if (batch.empty()) return;
    SendBatch(std::move(batch));
  }
}

bool PredictionLogger::BatchReadyLocked() const {
  return stopping_ || queue_.size() >= static_cast<size_t>(options_.batch_records);
}

std::vector<v1::PredictionRecord> PredictionLogger::NextBatch() {
  absl::Time flush_at = absl::InfinitePast();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &PredictionLogger::HasWorkLocked));
    if (!BatchReadyLocked()) flush_at = oldest_queued_at_ + options_.flush_interval;
  }
  // A partial batch waits for more records, up to its flush time; a full one, or a stop, ends
  // the wait early (asked every Clock::kInterruptPoll).
  if (flush_at != absl::InfinitePast()) {
    options_.clock->SleepUntil(flush_at, [this] {
      absl::MutexLock lock(&mu_);
      return BatchReadyLocked();
    });
  }
  const bool past_stop_deadline = PastStopDeadline();
  std::vector<v1::PredictionRecord> batch;
  int64_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    if (past_stop_deadline) {
      dropped = static_cast<int64_t>(queue_.size());
      queue_.clear();
    } else {
      const size_t take = std::min(queue_.size(), static_cast<size_t>(options_.batch_records));
      batch.reserve(take);
      std::move(queue_.begin(), queue_.begin() + take, std::back_inserter(batch));
      queue_.erase(queue_.begin(), queue_.begin() + take);
      oldest_queued_at_ = options_.clock->Now();
    }
  }
  if (dropped > 0) Drop(DropReason::kStopped, dropped);
  return batch;
}

void PredictionLogger::SendBatch(std::vector<v1::PredictionRecord> records) {
  v1::LogPredictionsRequest request;
  request.set_batch_id(batch_ids_->Next());
  request.mutable_predictions()->Reserve(static_cast<int>(records.size()));
  for (v1::PredictionRecord& record : records) *request.add_predictions() = std::move(record);
  const int64_t count = request.predictions_size();
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    if (PastStopDeadline()) return Drop(DropReason::kStopped, count);
    absl::StatusOr<v1::LogPredictionsResponse> response =
        options_.monitor->Send(request, SendDeadline());
    if (response.ok()) return CountAnswer(*response, count, attempt);
    CountSendError(response.status());
    if (!Retryable(response.status().code()) || attempt >= options_.max_attempts) {
      return Drop(DropReason::kSendFailed, count);
    }
    // Interrupted by Stop's deadline: the loop's first check drops the batch.
    WaitBackoff(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void PredictionLogger::WaitBackoff(absl::Duration backoff) {
  options_.clock->SleepUntil(options_.clock->Now() + backoff,
                             [this] { return PastStopDeadline(); });
}

bool PredictionLogger::PastStopDeadline() const {
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) return false;
    deadline = stop_deadline_;
  }
  return options_.clock->Now() >= deadline;
}

absl::Time PredictionLogger::SendDeadline() const {
  const absl::Time own = options_.clock->Now() + options_.send_timeout;
  absl::MutexLock lock(&mu_);
  return stopping_ ? std::min(own, stop_deadline_) : own;
}

void PredictionLogger::CountAnswer(const v1::LogPredictionsResponse& response, int64_t records,
                                   int attempts) {
  // A monitor answering nonsense (more rejected than sent) must not make the counts negative.
  const int64_t rejected = std::clamp<int64_t>(response.rejected(), 0, records);
  {
    absl::MutexLock lock(&mu_);
    ++counters_.batches;
    counters_.sent += records - rejected;
    counters_.rejected += rejected;
    if (rejected > 0) {
      counters_.last_error = absl::StrCat("the monitor rejected ", rejected, " of ", records,
                                          " records", response.errors().empty() ? "" : ": ",
                                          response.errors().empty() ? "" : response.errors(0));
    }
  }
  if (options_.observer != nullptr) {
    options_.observer->OnBatchSent(records - rejected, rejected, attempts);
  }
}

void PredictionLogger::CountSendError(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    ++counters_.send_errors;
    counters_.last_error = status.ToString();
  }
  if (options_.observer != nullptr) options_.observer->OnSendError(status);
}

void PredictionLogger::Drop(DropReason reason, int64_t records) {
  {
    absl::MutexLock lock(&mu_);
    CountDropLocked(reason, records);
  }
  if (options_.observer != nullptr) options_.observer->OnDropped(reason, records);
}

void PredictionLogger::CountDropLocked(DropReason reason, int64_t records) {
  switch (reason) {
    case DropReason::kQueueFull:
      counters_.dropped_queue_full += records;
      return;
    case DropReason::kSendFailed:
      counters_.dropped_send_failed += records;
      return;
    case DropReason::kStopped:
      counters_.dropped_stopped += records;
      return;
  }
}

}  // namespace fabrique::serving
