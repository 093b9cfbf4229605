#ifndef FABRIQUE_TESTS_SERVING_FAKE_FEATURE_PORT_H_
#define FABRIQUE_TESTS_SERVING_FAKE_FEATURE_PORT_H_

// An in-memory feature store for the lookup tests: every feature is a STRING whose value for key
// k is "group:feature/k", so a request can tell its own rows from another's. It counts and keeps
// the calls, can hold them until released (to build up concurrent requests) and can fail them.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/serving/feature_port.h"

namespace fabrique::serving::testing {

// How long a test waits, in real time, for something that should happen at once.
inline constexpr absl::Duration kLookupWait = absl::Seconds(10);

class FakeFeaturePort : public FeaturePort {
 public:
  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back(request);
    deadlines_.push_back(deadline);
    // Bounded, so a failed test ends instead of hanging on a call still held.
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](bool* held) { return !*held; }, &held_),
                         kLookupWait);
    if (!fail_.ok()) return fail_;
    return Answer(request);
  }

  // The answer every call gets when nothing fails: "group:feature/key", all PRESENT.
  static v1::LookupOnlineResponse Answer(const v1::LookupOnlineRequest& request) {
    v1::LookupOnlineResponse response;
    const auto& keys = request.entity_keys(0).keys();
    response.set_row_count(keys.size());
    for (const v1::FeatureRef& ref : request.features()) {
      v1::OnlineFeatureColumn* column = response.add_columns();
      *column->mutable_feature() = ref;
      column->set_type(v1::FEATURE_TYPE_STRING);
      column->set_schema_version(1);
      for (const std::string& key : keys) {
        column->mutable_values()->mutable_string_values()->add_values(
            absl::StrCat(ref.group(), ":", ref.feature(), "/", key));
        column->add_statuses(v1::VALUE_STATUS_PRESENT);
      }
    }
    return response;
  }

  // Calls wait inside the port until Release (or kLookupWait of real time).
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Every later call answers `status`.
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  // Waits, at most kLookupWait of real time, until `count` calls have begun.
  bool AwaitCalls(int64_t count) {
    absl::MutexLock lock(&mu_);
    const auto begun = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int64_t>(calls_.size()) >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&begun), kLookupWait);
  }
  std::vector<v1::LookupOnlineRequest> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }

 private:
  mutable absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::LookupOnlineRequest> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_FAKE_FEATURE_PORT_H_
