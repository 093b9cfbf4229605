// The intake's predictions: idempotency by batch id, refused rows, unknown versions, durability
// across a reopen, and the order and bounds of window scans.

#include "libs/monitoring/intake/intake_store.h"

#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "intake_test_util.h"
#include "libs/kv/env.h"
#include "tests/kv/observed_env.h"

namespace fabrique::monitoring {
namespace {

using testing::AppendOutcomes;
using testing::AppendPredictions;
using testing::Double;
using testing::kStart;
using testing::OutcomeById;
using testing::Prediction;
using testing::ScannedIds;
using testing::TestIntake;

using Ids = std::vector<std::string>;

TEST_CASE("A replayed batch of predictions answers the same result and stores nothing again",
          "[intake]") {
  TestIntake intake;
  v1::PredictionRecord no_time = Prediction("p3", "churn", 1, kStart);
  no_time.clear_time();
  const PredictionIntakeResult first = AppendPredictions(
      *intake, "b1",
      {Prediction("p1", "churn", 1, kStart), Prediction("p2", "churn", 1, kStart), no_time});
  CHECK(first.accepted == 2);
  CHECK(first.rejected == 1);
  REQUIRE(first.errors == std::vector<RowError>{{2, "time is not set"}});

  // Same id, other content: the first answer, and none of the new records.
  const PredictionIntakeResult replay =
      AppendPredictions(*intake, "b1", {Prediction("p9", "churn", 1, kStart)});
  CHECK(replay.accepted == 2);
  CHECK(replay.rejected == 1);
  CHECK(replay.errors == first.errors);
  CHECK(ScannedIds(*intake, "churn", 1) == Ids{"p1", "p2"});

  // A new batch that repeats a prediction id stores only the new record.
  const PredictionIntakeResult next =
      AppendPredictions(*intake, "b2",
                        {Prediction("p2", "churn", 1, kStart), Prediction("p4", "churn", 1, kStart),
                         Prediction("p4", "churn", 1, kStart)});
  CHECK(next.accepted == 1);
  CHECK(next.duplicates == 2);
  CHECK(ScannedIds(*intake, "churn", 1) == Ids{"p1", "p2", "p4"});
}

TEST_CASE("Rows without an id, a model or a version are refused with their index and reason",
          "[intake]") {
  TestIntake intake;
  v1::PredictionRecord no_id = Prediction("", "churn", 1, kStart);
  v1::PredictionRecord no_model = Prediction("p2", "", 1, kStart);
  v1::PredictionRecord no_version = Prediction("p3", "churn", 0, kStart);
  const PredictionIntakeResult result = AppendPredictions(
      *intake, "b1", {Prediction("p1", "churn", 1, kStart), no_id, no_model, no_version});
  CHECK(result.accepted == 1);
  CHECK(result.rejected == 3);
  CHECK(result.errors == std::vector<RowError>{{1, "prediction_id is empty"},
                                               {2, "model_version.model is empty"},
                                               {3, "model_version.version must be 1 or more"}});
}

TEST_CASE("An empty batch id is refused, since replays could not be recognised", "[intake]") {
  TestIntake intake;
  const std::vector<v1::PredictionRecord> records = {Prediction("p1", "churn", 1, kStart)};
  CHECK(intake->AppendPredictions("", records).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<v1::Outcome> outcomes = {OutcomeById("p1", Double(1), kStart)};
  CHECK(intake->AppendOutcomes("", outcomes, testing::Regression).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(testing::ScannedIds(*intake, "churn", 1).empty());
}

TEST_CASE("Opening without a directory is INVALID_ARGUMENT", "[intake]") {
  CHECK(IntakeStore::Open(IntakeOptions{}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Records of an unknown model version are stored, flagged and counted", "[intake]") {
  TestIntake intake([](IntakeOptions& options) {
    options.known = [](absl::string_view model, int64_t version) {
      return model == "churn" && version == 1;
    };
  });
  const PredictionIntakeResult result =
      AppendPredictions(*intake, "b1",
                        {Prediction("p1", "churn", 1, kStart), Prediction("p2", "churn", 2, kStart),
                         Prediction("p3", "ghost", 1, kStart)});
  CHECK(result.accepted == 3);
  CHECK(result.unknown_version == 2);

  std::vector<std::pair<std::string, bool>> flagged;
  for (auto [model, version] :
       {std::pair<std::string, int64_t>{"churn", 1}, {"churn", 2}, {"ghost", 1}}) {
    INTAKE_REQUIRE_OK(intake->ScanPredictions(
        model, version, absl::InfinitePast(), absl::InfiniteFuture(),
        [&](const StoredPrediction& prediction) {
          flagged.emplace_back(prediction.record.prediction_id(), prediction.unknown_version);
          return true;
        }));
  }
  CHECK(flagged ==
        std::vector<std::pair<std::string, bool>>{{"p1", false}, {"p2", true}, {"p3", true}});
}

TEST_CASE("Predictions, outcomes and batch ids survive a reopen", "[intake]") {
  TestIntake intake;
  AppendPredictions(*intake, "b1", {Prediction("p1", "price", 1, kStart)});
  AppendOutcomes(*intake, "o1", {OutcomeById("p1", Double(3.5), kStart)});
  AppendOutcomes(*intake, "o2", {OutcomeById("p2", Double(4.5), kStart)});  // Pending.
  intake.Reopen();

  CHECK(ScannedIds(*intake, "price", 1) == Ids{"p1"});
  CHECK(testing::JoinedLabels(*intake, "price", 1) ==
        std::vector<std::pair<std::string, std::string>>{{"p1", "double_value: 3.5"}});
  // The batch ids are remembered: replays answer as the first calls did.
  CHECK(AppendPredictions(*intake, "b1", {Prediction("p5", "price", 1, kStart)}).accepted == 1);
  CHECK(ScannedIds(*intake, "price", 1) == Ids{"p1"});
  CHECK(AppendOutcomes(*intake, "o1", {}).matched == 1);
  // The pending outcome waited through the reopen.
  CHECK(AppendPredictions(*intake, "b2", {Prediction("p2", "price", 1, kStart)}).outcomes_joined ==
        1);
}

TEST_CASE("Every append fsyncs the write-ahead log before it answers", "[intake]") {
  std::unique_ptr<rocksdb::Env> memory = kv::NewInMemoryEnv();
  fabrique::testing::ObservedEnv env(memory.get());
  TestIntake intake([&](IntakeOptions& options) { options.env = &env; });
  const int64_t before = env.wal_syncs();
  AppendPredictions(*intake, "b1", {Prediction("p1", "price", 1, kStart)});
  const int64_t after_predictions = env.wal_syncs();
  CHECK(after_predictions > before);
  AppendOutcomes(*intake, "o1", {OutcomeById("p1", Double(1), kStart)});
  CHECK(env.wal_syncs() > after_predictions);
}

TEST_CASE("An append that leaves the fsync to its caller is fsynced by SyncLog", "[intake]") {
  std::unique_ptr<rocksdb::Env> memory = kv::NewInMemoryEnv();
  fabrique::testing::ObservedEnv env(memory.get());
  TestIntake intake([&](IntakeOptions& options) { options.env = &env; });
  const int64_t before = env.wal_syncs();
  const std::vector<v1::PredictionRecord> records = {Prediction("p1", "price", 1, kStart)};
  absl::StatusOr<PredictionIntakeResult> result =
      intake->AppendPredictions("b1", records, IntakeStore::AnyLabelType, kv::SyncMode::kNoSync);
  INTAKE_REQUIRE_OK(result);
  CHECK(result->accepted == 1);
  CHECK(env.wal_syncs() == before);
  INTAKE_REQUIRE_OK(intake->SyncLog());
  CHECK(env.wal_syncs() > before);
  CHECK(ScannedIds(*intake, "price", 1) == Ids{"p1"});
}

TEST_CASE("The same batch sent at once from several threads is stored once", "[intake]") {
  TestIntake intake;
  const std::vector<v1::PredictionRecord> records = {Prediction("p1", "price", 1, kStart),
                                                     Prediction("p2", "price", 1, kStart)};
  std::vector<PredictionIntakeResult> results(4);
  std::vector<std::thread> senders;
  for (PredictionIntakeResult& result : results) {
    senders.emplace_back([&] { result = *intake->AppendPredictions("b1", records); });
  }
  for (std::thread& sender : senders) sender.join();
  for (const PredictionIntakeResult& result : results) {
    CHECK(result.accepted == 2);
    CHECK(result.duplicates == 0);
  }
  CHECK(ScannedIds(*intake, "price", 1) == Ids{"p1", "p2"});
}

TEST_CASE("A scan reads one version's records in [from, to), in time order", "[intake]") {
  TestIntake intake;
  const absl::Duration minute = absl::Minutes(1);
  AppendPredictions(
      *intake, "b1",
      {Prediction("late", "churn", 1, kStart + 3 * minute),
       Prediction("b-early", "churn", 1, kStart + minute),
       Prediction("a-early", "churn", 1, kStart + minute), Prediction("first", "churn", 1, kStart),
       Prediction("other-version", "churn", 2, kStart + minute),
       Prediction("other-model", "churn2", 1, kStart + minute),
       Prediction("before-epoch", "churn", 1, absl::FromUnixSeconds(-5))});

  CHECK(ScannedIds(*intake, "churn", 1) ==
        Ids{"before-epoch", "first", "a-early", "b-early", "late"});
  // `from` is included, `to` is not.
  CHECK(ScannedIds(*intake, "churn", 1, kStart + minute, kStart + 3 * minute) ==
        Ids{"a-early", "b-early"});
  CHECK(ScannedIds(*intake, "churn", 1, kStart + 4 * minute, absl::InfiniteFuture()).empty());
  CHECK(ScannedIds(*intake, "churn", 2) == Ids{"other-version"});
  CHECK(ScannedIds(*intake, "chur", 1).empty());
  // The times alone, from the keys.
  std::vector<absl::Time> times;
  INTAKE_REQUIRE_OK(intake->ScanPredictionTimes("churn", 1, kStart + minute, kStart + 4 * minute,
                                                [&](absl::Time time) { times.push_back(time); }));
  CHECK(times == std::vector<absl::Time>{kStart + minute, kStart + minute, kStart + 3 * minute});

  // The visitor stops the scan by returning false.
  int visited = 0;
  INTAKE_REQUIRE_OK(
      intake->ScanPredictions("churn", 1, absl::InfinitePast(), absl::InfiniteFuture(),
                              [&](const StoredPrediction&) { return ++visited < 2; }));
  CHECK(visited == 2);
}

TEST_CASE("Window scans read the disk without filling the block cache", "[intake]") {
  TestIntake intake;
  std::vector<v1::PredictionRecord> records;
  for (int i = 0; i < 2000; ++i) {
    records.push_back(Prediction(absl::StrCat("p", i), "churn", 1, kStart + absl::Seconds(i)));
  }
  AppendPredictions(*intake, "b1", records);
  std::vector<v1::Outcome> outcomes;
  for (int i = 0; i < 2000; i += 2) {
    outcomes.push_back(OutcomeById(absl::StrCat("p", i), Double(i), kStart + absl::Hours(1)));
  }
  AppendOutcomes(*intake, "o1", outcomes);
  kv::Store& database = intake->database();
  INTAKE_REQUIRE_OK(database.Flush());
  const kv::ColumnFamily any = *database.Family(database.FamilyNames().front());
  const auto cached = [&] { return *database.IntProperty(any, "rocksdb.block-cache-usage"); };
  const uint64_t before = cached();

  int scanned = 0;
  INTAKE_REQUIRE_OK(intake->ScanPredictions("churn", 1, absl::InfinitePast(),
                                            absl::InfiniteFuture(), [&](const StoredPrediction&) {
                                              ++scanned;
                                              return true;
                                            }));
  int joined = 0;
  INTAKE_REQUIRE_OK(intake->ScanJoined("churn", 1, absl::InfinitePast(), absl::InfiniteFuture(),
                                       [&](const JoinedPrediction&) {
                                         ++joined;
                                         return true;
                                       }));
  CHECK(scanned == 2000);
  CHECK(joined == 1000);
  // Some 200 KiB of records were read from files; none of their blocks stayed in the cache.
  CHECK(cached() < before + 16 * 1024);
}

}  // namespace
}  // namespace fabrique::monitoring
