// LogPredictions through the real server fills the live windows before it answers: every
// accepted record counted once, nothing of a replayed batch, a refused row or a failed batch.

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/services/monitor_test_server.h"

namespace fabrique::services::monitor_test {
namespace {

using monitoring::testing::Double;
using monitoring::testing::kStart;
using monitoring::testing::Prediction;
using monitoring::testing::String;

v1::PredictionRecord WithInputs(const std::string& id, int64_t version, double amount,
                                const std::string& country) {
  v1::PredictionRecord record = Prediction(id, "churn", version, kStart);
  *record.add_inputs() = Double(amount);
  *record.add_inputs() = String(country);
  return record;
}

monitoring::LiveSummaries Live(MonitorAdapter& monitor, int64_t version) {
  absl::StatusOr<monitoring::LiveSummaries> live = monitor.windows->Summaries(
      "churn", version, kStart - absl::Hours(1), kStart + absl::Hours(1));
  REQUIRE(live.ok());
  return *std::move(live);
}

TEST_CASE("LogPredictions counts what it accepted in the windows before it answers") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
  v1::PredictionRecord no_id = WithInputs("", 1, 9, "it");
  const auto a = PredictionBatch("a", {WithInputs("p1", 1, 10, "fr"), WithInputs("p2", 1, 20, "de"),
                                       no_id, WithInputs("p1", 1, 99, "xx")});
  const auto b =
      PredictionBatch("b", {WithInputs("p3", 1, 30, "fr"), WithInputs("p4", 5, 1, "fr")});
  v1::LogPredictionsResponse response;
  REQUIRE(monitor.LogPredictions({a, b}, &response).ok());
  CHECK(response.accepted() == 4);
  CHECK(response.unknown_version() == 1);

  const monitoring::LiveSummaries live = Live(monitor, 1);
  CHECK(live.predictions == 3);
  REQUIRE(live.inputs.size() == 2);
  CHECK(live.inputs[0].summary.mean() == 20);
  CHECK(live.inputs[1].summary.categories().Count("fr") == 2);
  CHECK(Live(monitor, 5).predictions == 1);  // Unknown to the registry, summarised all the same.

  // A replayed batch, then a stream whose second batch fails: the first batch of it counts.
  v1::LogPredictionsResponse replay;
  REQUIRE(monitor.LogPredictions({b}, &replay).ok());
  const auto c = PredictionBatch("c", {WithInputs("p5", 1, 40, "de")});
  const auto no_batch_id = PredictionBatch("", {WithInputs("p6", 1, 50, "de")});
  v1::LogPredictionsResponse failed;
  const grpc::Status status = monitor.LogPredictions({c, no_batch_id}, &failed);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Live(monitor, 1).predictions == 4);
  CHECK(Live(monitor, 1).inputs[0].summary.mean() == 25);
}

TEST_CASE("A caller the monitor does not let log predictions adds nothing to the windows") {
  MonitorAdapter monitor;
  monitor.registry.Add("churn", "risk", v1::TASK_BINARY_CLASSIFICATION, 1);
  v1::LogPredictionsResponse response;
  const grpc::Status status = monitor.LogPredictions(
      {PredictionBatch("a", {WithInputs("p1", 1, 10, "fr")})}, &response, "dana", kDana);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(Live(monitor, 1).predictions == 0);
}

}  // namespace
}  // namespace fabrique::services::monitor_test
