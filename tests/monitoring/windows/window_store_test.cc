// The live windows as the intake fills them: counts per window, ranges merged, what is not
// counted, unknown versions, a restart after a crash, eviction, retention and active versions.

#include "libs/monitoring/windows/window_store.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "window_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::AppendPredictions;
using testing::kStart;
using testing::Prediction;
using testing::RequireSameSummaries;
using testing::Scored;
using testing::TestIntake;

// An intake and its windows, reopened together as the monitor does.
class TestWindows {
 public:
  explicit TestWindows(WindowOptions options = {},
                       std::function<void(IntakeOptions&)> adjust = nullptr)
      : intake_(std::move(adjust)), options_(options) {
    options_.clock = &intake_.clock();
    Open();
  }
  ~TestWindows() { windows_.reset(); }

  void Open() {
    absl::StatusOr<std::unique_ptr<WindowStore>> windows = WindowStore::Open(&*intake_, options_);
    INTAKE_REQUIRE_OK(windows);
    windows_ = *std::move(windows);
  }
  // Closes both without persisting the windows, as a crash would leave them.
  void Crash() {
    windows_.reset();
    intake_.Reopen();
    Open();
  }

  IntakeStore& intake() { return *intake_; }
  WindowStore& operator*() { return *windows_; }
  WindowStore* operator->() { return windows_.get(); }
  core::FakeClock& clock() { return intake_.clock(); }

  LiveSummaries Summaries(const std::string& model, int64_t version, absl::Time from,
                          absl::Time to) {
    absl::StatusOr<LiveSummaries> live = windows_->Summaries(model, version, from, to);
    INTAKE_REQUIRE_OK(live);
    return *std::move(live);
  }

 private:
  TestIntake intake_;
  WindowOptions options_;
  std::unique_ptr<WindowStore> windows_;
};

std::vector<v1::PredictionRecord> Records(const std::string& prefix, int n, absl::Time from,
                                          absl::Duration step, int64_t version = 1) {
  std::vector<v1::PredictionRecord> records;
  for (int i = 0; i < n; ++i) {
    records.push_back(Scored(absl::StrCat(prefix, i), "churn", version, from + i * step, i * 1.5,
                             i % 3 == 0 ? "fr" : "de", 0.01f * (i % 100)));
  }
  return records;
}

// One summary of every record, as a single window would hold it.
LiveSummaries OneSummaryOf(const std::vector<v1::PredictionRecord>& records, absl::Time from,
                           absl::Time to) {
  WindowSummary all;
  for (const v1::PredictionRecord& record : records) all.Add(record);
  return all.ToLive(from, to);
}

TEST_CASE("Each window counts the records whose time falls in it", "[windows]") {
  TestWindows windows;
  const absl::Time hour = windows->WindowStart(kStart);
  AppendPredictions(windows.intake(), "b1",
                    {Prediction("p1", "churn", 1, hour + absl::Minutes(1)),
                     Prediction("p2", "churn", 1, hour + absl::Minutes(59)),
                     Prediction("p3", "churn", 1, hour + absl::Minutes(61))});
  const LiveSummaries first = windows.Summaries("churn", 1, hour, hour + absl::Minutes(30));
  CHECK(first.predictions == 2);
  CHECK(first.from == hour);
  CHECK(first.to == hour + absl::Hours(1));  // Whole windows.
  CHECK(first.last_prediction_time == hour + absl::Minutes(59));
  const LiveSummaries second =
      windows.Summaries("churn", 1, hour + absl::Hours(1), hour + absl::Hours(2));
  CHECK(second.predictions == 1);
  const LiveSummaries none =
      windows.Summaries("churn", 1, hour + absl::Hours(5), hour + absl::Hours(6));
  CHECK(none.predictions == 0);
  CHECK(none.from == hour + absl::Hours(5));
  CHECK(none.to == hour + absl::Hours(5));
  CHECK(windows.Summaries("churn", 2, hour, hour + absl::Hours(2)).predictions == 0);
}

TEST_CASE("A range's summary equals one summary of all its values", "[windows]") {
  TestWindows windows;
  const absl::Time hour = windows->WindowStart(kStart);
  const std::vector<v1::PredictionRecord> records =
      Records("p", 900, hour, absl::Seconds(17));  // Over about five windows.
  AppendPredictions(windows.intake(), "b1",
                    std::vector<v1::PredictionRecord>(records.begin(), records.begin() + 400));
  REQUIRE(windows->Persist().ok());  // Some windows on disk, some in memory, one in both.
  AppendPredictions(windows.intake(), "b2",
                    std::vector<v1::PredictionRecord>(records.begin() + 400, records.end()));
  const LiveSummaries live =
      windows.Summaries("churn", 1, absl::InfinitePast(), absl::InfiniteFuture());
  RequireSameSummaries(live, OneSummaryOf(records, hour, hour + absl::Hours(5)));
}

TEST_CASE("Refused rows, duplicates and replayed batches are not counted", "[windows]") {
  TestWindows windows;
  v1::PredictionRecord no_time = Prediction("p9", "churn", 1, kStart);
  no_time.clear_time();
  AppendPredictions(
      windows.intake(), "b1",
      {Prediction("p1", "churn", 1, kStart), Prediction("p1", "churn", 1, kStart), no_time});
  AppendPredictions(windows.intake(), "b1", {Prediction("p2", "churn", 1, kStart)});  // Replay.
  AppendPredictions(windows.intake(), "b2",
                    {Prediction("p1", "churn", 1, kStart), Prediction("p3", "churn", 1, kStart)});
  CHECK(windows.Summaries("churn", 1, kStart, kStart + absl::Seconds(1)).predictions == 2);
}

TEST_CASE("Records of versions the registry does not know are summarised too", "[windows]") {
  TestWindows windows({}, [](IntakeOptions& options) {
    options.known = [](absl::string_view, int64_t version) { return version == 1; };
  });
  const PredictionIntakeResult result = AppendPredictions(
      windows.intake(), "b1",
      {Prediction("p1", "churn", 1, kStart), Prediction("p2", "churn", 7, kStart)});
  CHECK(result.unknown_version == 1);
  CHECK(windows.Summaries("churn", 7, kStart, kStart + absl::Seconds(1)).predictions == 1);
}

TEST_CASE("After a crash the windows hold every accepted record exactly once", "[windows]") {
  WindowOptions options;
  options.persist_after_records = 350;  // Persists in the middle of the stream.
  TestWindows windows(options);
  const absl::Time hour = windows->WindowStart(kStart);
  const std::vector<v1::PredictionRecord> records = Records("p", 600, hour, absl::Seconds(7));
  for (int b = 0; b < 6; ++b) {
    AppendPredictions(windows.intake(), absl::StrCat("b", b),
                      std::vector<v1::PredictionRecord>(records.begin() + 100 * b,
                                                        records.begin() + 100 * (b + 1)));
  }
  // 400 persisted, 200 only in memory and the journal.
  CHECK(windows->windows_in_memory() > 0);
  const LiveSummaries before =
      windows.Summaries("churn", 1, absl::InfinitePast(), absl::InfiniteFuture());
  windows.Crash();
  const LiveSummaries after =
      windows.Summaries("churn", 1, absl::InfinitePast(), absl::InfiniteFuture());
  CHECK(after.predictions == 600);
  RequireSameSummaries(after, before);
  // Persisting what the replay rebuilt, then crashing again, counts nothing twice.
  REQUIRE(windows->Persist().ok());
  windows.Crash();
  AppendPredictions(windows.intake(), "b0", {records[0]});  // A replayed batch after the restart.
  RequireSameSummaries(windows.Summaries("churn", 1, absl::InfinitePast(), absl::InfiniteFuture()),
                       OneSummaryOf(records, after.from, after.to));
}

TEST_CASE("Concurrent appends store and count each id once, also after a crash", "[windows]") {
  WindowOptions options;
  options.persist_after_records = 700;  // Persists while other appends are in flight.
  TestWindows windows(options);
  const absl::Time hour = windows->WindowStart(kStart);
  const std::vector<v1::PredictionRecord> records = Records("p", 2000, hour, absl::Seconds(1));
  // Four writers, each sending every batch of 100 (so each id and each batch id four times at
  // once), and half of them each batch's rows again under other batch ids.
  constexpr int kWriters = 4;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < 20; ++b) {
        const std::vector<v1::PredictionRecord> batch(records.begin() + 100 * b,
                                                      records.begin() + 100 * (b + 1));
        // Catch's assertions are not thread-safe: failures are counted and checked after.
        if (!windows.intake().AppendPredictions(absl::StrCat("b", b), batch).ok()) ++failures;
        if (w % 2 == 1 &&
            !windows.intake().AppendPredictions(absl::StrCat("w", w, "-b", b), batch).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  REQUIRE(failures == 0);
  // A replayed batch id answers its first call's result, so "b<i>" counts its accepted rows
  // once per writer; the writers' own batch ids found every row stored or in flight.
  int64_t stored_by_batches = 0;
  for (int b = 0; b < 20; ++b) {
    absl::StatusOr<PredictionIntakeResult> replay = windows.intake().AppendPredictions(
        absl::StrCat("b", b), std::vector<v1::PredictionRecord>{records[0]});
    REQUIRE(replay.ok());
    stored_by_batches += replay->accepted;
  }
  int64_t stored_by_writers = 0;
  for (int w = 1; w < kWriters; w += 2) {
    for (int b = 0; b < 20; ++b) {
      absl::StatusOr<PredictionIntakeResult> replay = windows.intake().AppendPredictions(
          absl::StrCat("w", w, "-b", b), std::vector<v1::PredictionRecord>{records[0]});
      REQUIRE(replay.ok());
      stored_by_writers += replay->accepted;
    }
  }
  CHECK(stored_by_batches + stored_by_writers == 2000);
  CHECK(testing::ScannedIds(windows.intake(), "churn", 1).size() == 2000);
  const LiveSummaries all = OneSummaryOf(records, hour, hour + absl::Hours(1));
  RequireSameSummaries(windows.Summaries("churn", 1, hour, hour + absl::Hours(1)), all);
  windows.Crash();
  RequireSameSummaries(windows.Summaries("churn", 1, hour, hour + absl::Hours(1)), all);
}

TEST_CASE("Evicting windows to disk keeps every result identical", "[windows]") {
  WindowOptions evicting;
  evicting.persist_after_records = 1;  // Persists and evicts after every batch.
  TestWindows kept, evicted(evicting);
  const absl::Time hour = kept->WindowStart(kStart);
  const std::vector<v1::PredictionRecord> records = Records("p", 1000, hour, absl::Seconds(11));
  for (int b = 0; b < 10; ++b) {
    const std::vector<v1::PredictionRecord> batch(records.begin() + 100 * b,
                                                  records.begin() + 100 * (b + 1));
    AppendPredictions(kept.intake(), absl::StrCat("b", b), batch);
    AppendPredictions(evicted.intake(), absl::StrCat("b", b), batch);
  }
  CHECK(evicted->windows_in_memory() == 0);
  CHECK(kept->windows_in_memory() == 4);
  for (const auto& [from, to] : std::vector<std::pair<absl::Time, absl::Time>>{
           {absl::InfinitePast(), absl::InfiniteFuture()},
           {hour + absl::Minutes(30), hour + absl::Minutes(90)},
           {hour + absl::Hours(2), hour + absl::Hours(3)}}) {
    RequireSameSummaries(evicted.Summaries("churn", 1, from, to),
                         kept.Summaries("churn", 1, from, to));
  }
}

TEST_CASE("Only windows receiving records stay in memory", "[windows]") {
  WindowOptions options;
  options.persist_interval = absl::Minutes(1);
  TestWindows windows(options);
  const absl::Time hour = windows->WindowStart(kStart);
  AppendPredictions(windows.intake(), "b1", Records("a", 100, hour, absl::Minutes(1)));
  CHECK(windows->windows_in_memory() == 2);
  windows.clock().Advance(absl::Minutes(2));
  // The next write persists first windows and keeps only what it adds.
  AppendPredictions(windows.intake(), "b2",
                    Records("b", 10, hour + absl::Hours(1), absl::Seconds(1)));
  CHECK(windows->windows_in_memory() == 0);
  AppendPredictions(windows.intake(), "b3",
                    Records("c", 10, hour + absl::Hours(1), absl::Seconds(1)));
  CHECK(windows->windows_in_memory() == 1);
  CHECK(windows.Summaries("churn", 1, hour, hour + absl::Hours(2)).predictions == 120);
}

TEST_CASE("Windows older than the retention are dropped by compaction", "[windows]") {
  TestWindows windows({}, [](IntakeOptions& options) { options.retention = absl::Hours(24); });
  const absl::Time hour = windows->WindowStart(kStart);
  AppendPredictions(windows.intake(), "b1", Records("p", 10, hour, absl::Minutes(1)));
  REQUIRE(windows->Persist().ok());
  windows.clock().Advance(absl::Hours(26));  // The first window ended over 24 hours ago.
  AppendPredictions(windows.intake(), "b2",
                    Records("q", 10, windows.clock().Now(), absl::Seconds(1)));
  REQUIRE(windows->Persist().ok());
  REQUIRE(windows.intake().Compact().ok());
  CHECK(windows.Summaries("churn", 1, hour, hour + absl::Hours(1)).predictions == 0);
  CHECK(windows.Summaries("churn", 1, hour, absl::InfiniteFuture()).predictions == 10);
  absl::StatusOr<std::vector<ActiveVersion>> active =
      windows->ActiveVersions(absl::InfinitePast(), absl::InfiniteFuture());
  INTAKE_REQUIRE_OK(active);
  CHECK(active->size() == 1);
}

TEST_CASE("Active versions are those with records in windows overlapping the range", "[windows]") {
  TestWindows windows;
  const absl::Time hour = windows->WindowStart(kStart);
  AppendPredictions(windows.intake(), "b1",
                    {Prediction("p1", "churn", 2, hour + absl::Minutes(10)),
                     Prediction("p2", "churn", 1, hour + absl::Minutes(20)),
                     Prediction("p3", "arpu", 1, hour + absl::Hours(3))});
  REQUIRE(windows->Persist().ok());
  AppendPredictions(windows.intake(), "b2",
                    {Prediction("p4", "churn", 1, hour + absl::Minutes(40))});
  absl::StatusOr<std::vector<ActiveVersion>> active =
      windows->ActiveVersions(hour + absl::Minutes(50), hour + absl::Hours(2));
  INTAKE_REQUIRE_OK(active);
  REQUIRE(active->size() == 2);
  CHECK((*active)[0].model == "churn");
  CHECK((*active)[0].version == 1);
  CHECK((*active)[0].last_prediction_time == hour + absl::Minutes(40));
  CHECK((*active)[1].version == 2);
  active = windows->ActiveVersions(absl::InfinitePast(), absl::InfiniteFuture());
  INTAKE_REQUIRE_OK(active);
  CHECK(active->size() == 3);
  CHECK((*active)[0].model == "arpu");
}

TEST_CASE("An empty range and a window under a second are INVALID_ARGUMENT", "[windows]") {
  TestWindows windows;
  CHECK(windows->Summaries("churn", 1, kStart, kStart).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(windows->ActiveVersions(kStart, kStart - absl::Seconds(1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  WindowOptions tiny;
  tiny.window = absl::Milliseconds(10);
  TestIntake intake;
  CHECK(WindowStore::Open(&*intake, tiny).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::monitoring
