#ifndef FABRIQUE_TESTS_SERVING_FAKE_MONITOR_H_
#define FABRIQUE_TESTS_SERVING_FAKE_MONITOR_H_

// A monitor in memory for the prediction log's tests, and an observer that counts what the
// logger reports.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/serving/monitor_port.h"
#include "libs/serving/prediction_logger.h"

namespace fabrique::serving::testing {

// Real time a test waits for the logger's thread, at most.
inline constexpr absl::Duration kWait = absl::Seconds(30);

// A monitor in memory: stores every request it is sent, answers at once, or holds each send
// until released (a slow monitor), or fails (a monitor down).
class FakeMonitor : public MonitorPort {
 public:
  absl::StatusOr<v1::LogPredictionsResponse> Send(const v1::LogPredictionsRequest& request,
                                                  absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    deadlines_.push_back(deadline);
    ++in_flight_;
    mu_.Await(absl::Condition(&open_));
    --in_flight_;
    if (!next_errors_.empty()) {
      absl::Status status = next_errors_.front();
      next_errors_.pop_front();
      return status;
    }
    if (always_error_.has_value()) return *always_error_;
    v1::LogPredictionsResponse response;
    const int64_t rejected = std::min<int64_t>(reject_next_, request.predictions_size());
    reject_next_ = 0;
    response.set_accepted(request.predictions_size() - rejected);
    response.set_rejected(rejected);
    if (rejected > 0) response.add_errors(reject_reason_);
    return response;
  }

  void Hold() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  void FailAlways(absl::Status status) {
    absl::MutexLock lock(&mu_);
    always_error_ = std::move(status);
  }
  void Recover() {
    absl::MutexLock lock(&mu_);
    always_error_.reset();
  }
  void FailNext(absl::Status status) {
    absl::MutexLock lock(&mu_);
    next_errors_.push_back(std::move(status));
  }
  void RejectNext(int64_t records, std::string reason) {
    absl::MutexLock lock(&mu_);
    reject_next_ = records;
    reject_reason_ = std::move(reason);
  }

  // Waits until `count` sends have begun; returns whether they have.
  bool AwaitRequests(size_t count) {
    absl::MutexLock lock(&mu_);
    const auto begun = [this, count]()
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&begun), kWait);
  }
  std::vector<v1::LogPredictionsRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  // The prediction ids sent, in the order they were sent.
  std::vector<std::string> SentIds() const {
    std::vector<std::string> ids;
    for (const auto& request : requests()) {
      for (const auto& record : request.predictions()) ids.push_back(record.prediction_id());
    }
    return ids;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::LogPredictionsRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  std::optional<absl::Status> always_error_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> next_errors_ ABSL_GUARDED_BY(mu_);
  int64_t reject_next_ ABSL_GUARDED_BY(mu_) = 0;
  std::string reject_reason_ ABSL_GUARDED_BY(mu_);
};

// Counts what the logger reports through its hooks.
class CountingObserver : public PredictionLogObserver {
 public:
  void OnBatchSent(int64_t sent, int64_t rejected, int attempts) override {
    absl::MutexLock lock(&mu_);
    sent_ += sent;
    rejected_ += rejected;
    attempts_.push_back(attempts);
  }
  void OnSendError(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    errors_.push_back(status.code());
  }
  void OnDropped(DropReason reason, int64_t records) override {
    absl::MutexLock lock(&mu_);
    dropped_[std::string(DropReasonName(reason))] += records;
  }
  int64_t sent() const {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  std::vector<int> attempts() const {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  std::vector<absl::StatusCode> errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  std::map<std::string, int64_t> dropped() const {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::StatusCode> errors_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> dropped_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_FAKE_MONITOR_H_
