// The monitor's LogPredictions and LogOutcomes through its adapter, in-process: streams of
// batches, idempotency, refusals with their codes and rows, versions the registry does not know,
// a registry that is down, outcomes joined, and outcomes kept to the caller's squads.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services::monitor_test {
namespace {

using monitoring::testing::Bool;
using monitoring::testing::Double;
using monitoring::testing::kStart;
using monitoring::testing::OutcomeByEntity;
using monitoring::testing::OutcomeById;
using monitoring::testing::Prediction;
using monitoring::testing::String;

bool Mentions(const grpc::Status& status, const std::string& text) {
  return absl::StrContains(status.error_message(), text);
}

// Predictions of `model` `version` stored in the intake, scanned around kStart.
int Stored(MonitorAdapter& monitor, const std::string& model, int64_t version) {
  int count = 0;
  REQUIRE(monitor.store
              ->ScanPredictions(model, version, kStart - absl::Hours(24), kStart + absl::Hours(24),
                                [&count](const monitoring::StoredPrediction&) {
                                  ++count;
                                  return true;
                                })
              .ok());
  return count;
}

TEST_CASE("LogPredictions sums a stream of batches and counts a replayed batch once") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 2);
  const auto a = PredictionBatch(
      "a", {Prediction("p1", "churn", 1, kStart), Prediction("p2", "churn", 2, kStart)});
  const auto b = PredictionBatch("b", {Prediction("p3", "churn", 2, kStart)});
  v1::LogPredictionsResponse response;
  REQUIRE(monitor.LogPredictions({a, b}, &response).ok());
  CHECK(response.accepted() == 3);
  CHECK(response.duplicates() == 0);
  CHECK(response.rejected() == 0);
  CHECK(response.unknown_version() == 0);
  CHECK(monitor.Metric("fabrique_monitor_predictions_total", "accepted") == 3);

  // The sender lost the answer and sends "b" again: the same answer, nothing stored twice.
  v1::LogPredictionsResponse replay;
  REQUIRE(monitor.LogPredictions({b}, &replay).ok());
  CHECK(replay.accepted() == 1);
  CHECK(Stored(monitor, "churn", 2) == 2);
  // A new batch carrying a stored prediction id: a duplicate.
  v1::LogPredictionsResponse again;
  REQUIRE(
      monitor.LogPredictions({PredictionBatch("c", {Prediction("p1", "churn", 1, kStart)})}, &again)
          .ok());
  CHECK(again.duplicates() == 1);
  CHECK(monitor.Metric("fabrique_monitor_predictions_total", "duplicate") == 1);
  CHECK(Stored(monitor, "churn", 1) == 1);
}

TEST_CASE("LogPredictions names refused rows by batch and row, counts exactly") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
  v1::PredictionRecord no_id = Prediction("", "churn", 1, kStart);
  v1::PredictionRecord no_time = Prediction("p2", "churn", 1, kStart);
  no_time.clear_time();
  v1::LogPredictionsResponse response;
  REQUIRE(monitor
              .LogPredictions(
                  {PredictionBatch("a", {Prediction("p0", "churn", 1, kStart), no_id, no_time})},
                  &response)
              .ok());
  CHECK(response.accepted() == 1);
  CHECK(response.rejected() == 2);
  REQUIRE(response.errors_size() == 2);
  CHECK(absl::StartsWith(response.errors(0), "batch a: row 1: "));
  CHECK(absl::StartsWith(response.errors(1), "batch a: row 2: "));
  CHECK(monitor.Metric("fabrique_monitor_predictions_total", "rejected") == 2);

  // At most 100 reasons, whatever the number refused.
  std::vector<v1::PredictionRecord> bad(150, Prediction("", "churn", 1, kStart));
  v1::LogPredictionsResponse many;
  REQUIRE(monitor.LogPredictions({PredictionBatch("b", bad)}, &many).ok());
  CHECK(many.rejected() == 150);
  CHECK(many.errors_size() == 100);
}

TEST_CASE("A batch without a batch_id is INVALID_ARGUMENT naming the field; earlier ones stay") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
  v1::LogPredictionsResponse response;
  const grpc::Status status =
      monitor.LogPredictions({PredictionBatch("a", {Prediction("p1", "churn", 1, kStart)}),
                              PredictionBatch("", {Prediction("p2", "churn", 1, kStart)})},
                             &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "LogPredictionsRequest.batch_id"));
  CHECK(Mentions(status, "batch 1"));
  CHECK(Stored(monitor, "churn", 1) == 1);

  v1::LogOutcomesResponse outcomes;
  const grpc::Status refused = monitor.LogOutcomes(
      {OutcomeBatch("", {OutcomeById("p1", Bool(true), kStart)})}, &outcomes, "dana", kDana);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(refused, "LogOutcomesRequest.batch_id"));
}

TEST_CASE("Records of versions the registry does not know are stored, flagged and counted") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 2);
  v1::LogPredictionsResponse response;
  REQUIRE(monitor
              .LogPredictions({PredictionBatch("a", {Prediction("p1", "churn", 2, kStart),
                                                     Prediction("p2", "churn", 7, kStart),
                                                     Prediction("p3", "ghost", 1, kStart)})},
                              &response)
              .ok());
  CHECK(response.accepted() == 3);
  CHECK(response.unknown_version() == 2);
  CHECK(monitor.Metric("fabrique_monitor_predictions_total", "accepted") == 1);
  CHECK(monitor.Metric("fabrique_monitor_predictions_total", "unknown_version") == 2);
  CHECK(Stored(monitor, "churn", 7) == 1);

  // A version registered since is known at once, without waiting for the cache to expire.
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 7);
  monitor.clock.Advance(absl::Seconds(2));
  v1::LogPredictionsResponse later;
  REQUIRE(
      monitor.LogPredictions({PredictionBatch("b", {Prediction("p4", "churn", 7, kStart)})}, &later)
          .ok());
  CHECK(later.unknown_version() == 0);
}

TEST_CASE("While the registry is down records are taken as known, labels checked by shape") {
  MonitorAdapter monitor;
  monitor.registry.Add("price", "risk", v1::TASK_REGRESSION, 1);
  monitor.registry.SetDown(true);
  v1::LogPredictionsResponse response;
  REQUIRE(monitor
              .LogPredictions({PredictionBatch("a", {Prediction("p1", "price", 1, kStart),
                                                     Prediction("p2", "price", 9, kStart)})},
                              &response)
              .ok());
  CHECK(response.accepted() == 2);
  CHECK(response.unknown_version() == 0);
  CHECK(monitor.Metric("fabrique_monitor_registry_lookups_failed_total") >= 1);
  // A string label for a regression model passes the shape check: the task is not known.
  v1::LogOutcomesResponse outcomes;
  REQUIRE(monitor
              .LogOutcomes({OutcomeBatch("o", {OutcomeById("p1", String("yes"), kStart)})},
                           &outcomes, "dana", kDana)
              .ok());
  CHECK(outcomes.matched() == 1);
  // A failed lookup is not retried at once: a dead registry costs one timeout now and then.
  const int lookups = monitor.registry.lookups();
  REQUIRE(
      monitor
          .LogPredictions({PredictionBatch("b", {Prediction("p3", "price", 1, kStart)})}, &response)
          .ok());
  CHECK(monitor.registry.lookups() == lookups);

  // Back up: the task is known again and a string label of a regression model is refused.
  monitor.registry.SetDown(false);
  monitor.clock.Advance(absl::Seconds(10));
  v1::LogOutcomesResponse typed;
  REQUIRE(monitor
              .LogOutcomes({OutcomeBatch("o2", {OutcomeById("p3", String("yes"), kStart)})}, &typed,
                           "dana", kDana)
              .ok());
  CHECK(typed.rejected() == 1);
  REQUIRE(typed.errors_size() == 1);
  CHECK(absl::StartsWith(typed.errors(0), "batch o2: row 0: "));
}

TEST_CASE("Outcomes are matched to stored predictions, or wait and are joined when they come") {
  MonitorAdapter monitor;
  monitor.registry.Add("price", "risk", v1::TASK_REGRESSION, 1);
  v1::LogPredictionsResponse predictions;
  REQUIRE(
      monitor
          .LogPredictions(
              {PredictionBatch("a", {Prediction("p1", "price", 1, kStart, {{"customer", "c1"}})})},
              &predictions)
          .ok());
  v1::LogOutcomesResponse outcomes;
  REQUIRE(monitor
              .LogOutcomes({OutcomeBatch("o1", {OutcomeById("p1", Double(3.5), kStart),
                                                OutcomeById("p2", Double(1.0), kStart)})},
                           &outcomes, "dana", kDana)
              .ok());
  CHECK(outcomes.accepted() == 2);
  CHECK(outcomes.matched() == 1);
  CHECK(outcomes.pending() == 1);
  CHECK(monitor.Metric("fabrique_monitor_outcomes_total", "matched") == 1);
  CHECK(monitor.Metric("fabrique_monitor_outcomes_total", "pending") == 1);
  CHECK(monitor.Metric("fabrique_monitor_outcomes_pending") == 1);

  // The same outcome again, in a new batch: a duplicate.
  v1::LogOutcomesResponse again;
  REQUIRE(monitor
              .LogOutcomes({OutcomeBatch("o2", {OutcomeById("p1", Double(3.5), kStart)})}, &again,
                           "dana", kDana)
              .ok());
  CHECK(again.duplicates() == 1);

  // The awaited prediction arrives: the pending outcome is joined to it.
  v1::LogPredictionsResponse late;
  REQUIRE(
      monitor.LogPredictions({PredictionBatch("b", {Prediction("p2", "price", 1, kStart)})}, &late)
          .ok());
  CHECK(late.outcomes_joined() == 1);
  CHECK(monitor.Metric("fabrique_monitor_outcomes_pending") == 0);
  int joined = 0;
  REQUIRE(monitor.store
              ->ScanJoined("price", 1, kStart - absl::Hours(1), kStart + absl::Hours(1),
                           [&joined](const monitoring::JoinedPrediction&) {
                             ++joined;
                             return true;
                           })
              .ok());
  CHECK(joined == 2);
}

TEST_CASE("An outcome of another squad's model is refused with its row; the rest are stored") {
  MonitorAdapter monitor;
  monitor.registry.Add("price", "risk", v1::TASK_REGRESSION, 1);
  monitor.registry.Add("fraud-score", "fraud", v1::TASK_BINARY_CLASSIFICATION, 1);
  v1::LogPredictionsResponse predictions;
  REQUIRE(monitor
              .LogPredictions({PredictionBatch("a", {Prediction("r1", "price", 1, kStart),
                                                     Prediction("f1", "fraud-score", 1, kStart,
                                                                {{"card", "k1"}})})},
                              &predictions)
              .ok());
  v1::LogOutcomesResponse outcomes;
  REQUIRE(
      monitor
          .LogOutcomes(
              {OutcomeBatch("o", {OutcomeById("r1", Double(2.0), kStart),
                                  OutcomeById("f1", Bool(true), kStart),
                                  OutcomeByEntity("fraud-score", "card", "k1", kStart, Bool(false)),
                                  OutcomeByEntity("ghost", "card", "k1", kStart, Bool(false))})},
              &outcomes, "dana", kDana)
          .ok());
  CHECK(outcomes.matched() == 1);
  CHECK(outcomes.rejected() == 3);
  REQUIRE(outcomes.errors_size() == 3);
  CHECK(outcomes.errors(0) == "batch o: row 1: model fraud-score belongs to squad fraud");
  CHECK(outcomes.errors(1) == "batch o: row 2: model fraud-score belongs to squad fraud");
  CHECK(absl::StartsWith(outcomes.errors(2), "batch o: row 3: model ghost is not in the registry"));
  CHECK(monitor.Metric("fabrique_monitor_outcomes_total", "rejected") == 3);

  // Erin logs for fraud: hers is matched.
  v1::LogOutcomesResponse erins;
  REQUIRE(monitor
              .LogOutcomes({OutcomeBatch("e", {OutcomeById("f1", Bool(true), kStart)})}, &erins,
                           "erin", kErin)
              .ok());
  CHECK(erins.matched() == 1);
}

TEST_CASE("Callers without the permission are refused with PERMISSION_DENIED") {
  MonitorAdapter monitor;
  monitor.registry.Add("price", "risk", v1::TASK_REGRESSION, 1);
  v1::LogPredictionsResponse response;
  const grpc::Status dana = monitor.LogPredictions(
      {PredictionBatch("a", {Prediction("p1", "price", 1, kStart)})}, &response, "dana", kDana);
  CHECK(dana.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Mentions(dana, "predictions.log"));
  CHECK(Stored(monitor, "price", 1) == 0);

  v1::LogOutcomesResponse outcomes;
  const grpc::Status nobody = monitor.LogOutcomes(
      {OutcomeBatch("o", {OutcomeById("p1", Double(1), kStart)})}, &outcomes, "zoe", {});
  CHECK(nobody.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Mentions(nobody, "outcomes.log"));
}

TEST_CASE("The monitor's calls not built yet answer UNIMPLEMENTED naming the monitor") {
  MonitorAdapter monitor;
  auto context = monitor.identity.Context("root", kRoot);
  v1::ListAlertsResponse alerts;
  const grpc::Status status =
      monitor.stub->ListAlerts(context.get(), v1::ListAlertsRequest(), &alerts);
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK(Mentions(status, "monitor"));
}

}  // namespace
}  // namespace fabrique::services::monitor_test
