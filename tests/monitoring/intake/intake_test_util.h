#ifndef FABRIQUE_TESTS_MONITORING_INTAKE_INTAKE_TEST_UTIL_H_
#define FABRIQUE_TESTS_MONITORING_INTAKE_INTAKE_TEST_UTIL_H_

// Helpers shared by the intake tests: status assertions, records and outcomes built from plain
// values, and an intake in a temp dir on a fake clock that can be closed and reopened.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/intake/intake_store.h"
#include "tests/util/test_util.h"

#define INTAKE_REQUIRE_OK(expr)                                             \
  do {                                                                      \
    const ::absl::Status intake_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(intake_status_.ToString());                                        \
    REQUIRE(intake_status_.ok());                                           \
  } while (0)

namespace fabrique::monitoring::testing {

// The fake clock's start; tests speak of times relative to it.
inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

inline google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t micros = absl::ToUnixMicros(time);
  timestamp.set_seconds(micros / 1'000'000);
  timestamp.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1'000);
  return timestamp;
}

inline v1::PredictionRecord Prediction(
    const std::string& id, const std::string& model, int64_t version, absl::Time time,
    std::vector<std::pair<std::string, std::string>> entities = {}) {
  v1::PredictionRecord record;
  record.set_prediction_id(id);
  record.mutable_model_version()->set_model(model);
  record.mutable_model_version()->set_version(version);
  *record.mutable_time() = ToProto(time);
  for (auto& [entity, key] : entities) (*record.mutable_entity_keys())[entity] = key;
  record.set_predicted_label("p-" + id);
  return record;
}

inline v1::Value Double(double x) {
  v1::Value value;
  value.set_double_value(x);
  return value;
}
inline v1::Value Int(int64_t x) {
  v1::Value value;
  value.set_int64_value(x);
  return value;
}
inline v1::Value Bool(bool x) {
  v1::Value value;
  value.set_bool_value(x);
  return value;
}
inline v1::Value String(const std::string& x) {
  v1::Value value;
  value.set_string_value(x);
  return value;
}

inline v1::Outcome OutcomeById(const std::string& prediction_id, v1::Value label,
                               absl::Time observe_time) {
  v1::Outcome outcome;
  outcome.set_prediction_id(prediction_id);
  *outcome.mutable_label() = std::move(label);
  *outcome.mutable_observe_time() = ToProto(observe_time);
  return outcome;
}

inline v1::Outcome OutcomeByEntity(const std::string& model, const std::string& entity,
                                   const std::string& key, absl::Time event_time, v1::Value label) {
  v1::Outcome outcome;
  v1::EntityEventKey* join = outcome.mutable_entity_event();
  join->set_model(model);
  join->set_entity(entity);
  join->set_entity_key(key);
  *join->mutable_event_time() = ToProto(event_time);
  *outcome.mutable_label() = std::move(label);
  return outcome;
}

// Every model is a regression model unless a test says otherwise.
inline v1::Task Regression(absl::string_view) { return v1::TASK_REGRESSION; }

// An intake in a fresh temp dir, on a fake clock at kStart.
class TestIntake {
 public:
  explicit TestIntake(std::function<void(IntakeOptions&)> adjust = nullptr)
      : adjust_(std::move(adjust)) {
    Open();
  }

  IntakeStore& operator*() { return *store_; }
  IntakeStore* operator->() { return store_.get(); }

  void Open() {
    IntakeOptions options;
    options.dir = dir_.Sub("intake");
    options.clock = &clock_;
    if (adjust_) adjust_(options);
    absl::StatusOr<std::unique_ptr<IntakeStore>> store = IntakeStore::Open(std::move(options));
    INTAKE_REQUIRE_OK(store);
    store_ = *std::move(store);
  }
  void Close() { store_.reset(); }
  void Reopen() {
    Close();
    Open();
  }

  core::FakeClock& clock() { return clock_; }
  std::string path() const { return dir_.Sub("intake"); }

 private:
  fabrique::testing::TempDir dir_;
  core::FakeClock clock_{kStart};
  std::function<void(IntakeOptions&)> adjust_;
  std::unique_ptr<IntakeStore> store_;
};

inline PredictionIntakeResult AppendPredictions(IntakeStore& intake, const std::string& batch_id,
                                                const std::vector<v1::PredictionRecord>& records) {
  absl::StatusOr<PredictionIntakeResult> result = intake.AppendPredictions(batch_id, records);
  INTAKE_REQUIRE_OK(result);
  return *std::move(result);
}

inline OutcomeIntakeResult AppendOutcomes(IntakeStore& intake, const std::string& batch_id,
                                          const std::vector<v1::Outcome>& outcomes,
                                          IntakeStore::LabelTypeOf label_type_of = Regression) {
  absl::StatusOr<OutcomeIntakeResult> result =
      intake.AppendOutcomes(batch_id, outcomes, label_type_of);
  INTAKE_REQUIRE_OK(result);
  return *std::move(result);
}

// Prediction ids of `model` `version` in [from, to), in scan order.
inline std::vector<std::string> ScannedIds(IntakeStore& intake, const std::string& model,
                                           int64_t version, absl::Time from = absl::InfinitePast(),
                                           absl::Time to = absl::InfiniteFuture()) {
  std::vector<std::string> ids;
  INTAKE_REQUIRE_OK(
      intake.ScanPredictions(model, version, from, to, [&](const StoredPrediction& prediction) {
        ids.push_back(prediction.record.prediction_id());
        return true;
      }));
  return ids;
}

// (prediction id, label as text) of every joined prediction of `model` `version`.
inline std::vector<std::pair<std::string, std::string>> JoinedLabels(IntakeStore& intake,
                                                                     const std::string& model,
                                                                     int64_t version) {
  std::vector<std::pair<std::string, std::string>> joined;
  INTAKE_REQUIRE_OK(intake.ScanJoined(model, version, absl::InfinitePast(), absl::InfiniteFuture(),
                                      [&](const JoinedPrediction& row) {
                                        joined.emplace_back(row.prediction.record.prediction_id(),
                                                            row.outcome.label().ShortDebugString());
                                        return true;
                                      }));
  return joined;
}

inline int64_t PendingCount(IntakeStore& intake) {
  absl::StatusOr<int64_t> count = intake.PendingOutcomeCount();
  INTAKE_REQUIRE_OK(count);
  return *count;
}

}  // namespace fabrique::monitoring::testing

#endif  // FABRIQUE_TESTS_MONITORING_INTAKE_INTAKE_TEST_UTIL_H_
