// Retention by compaction: predictions, joins, indexes and batch ids older than the retention
// period, and pending outcomes past the maximum label delay, are dropped when RocksDB compacts,
// driven here by a fake clock and a forced compaction.

#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "intake_test_util.h"
#include "libs/kv/store.h"
#include "libs/monitoring/intake/intake_families.h"
#include "libs/monitoring/intake/intake_store.h"

namespace fabrique::monitoring {
namespace {

using testing::AppendOutcomes;
using testing::AppendPredictions;
using testing::Double;
using testing::JoinedLabels;
using testing::kStart;
using testing::OutcomeByEntity;
using testing::OutcomeById;
using testing::Prediction;
using testing::ScannedIds;
using testing::TestIntake;

using Ids = std::vector<std::string>;
const absl::Duration kDay = absl::Hours(24);

// Entries in `family` of the closed intake at `path`, read with kv directly: what compaction
// left, whether or not the intake's readers would still show it.
int64_t RawEntries(const std::string& path, const char* family) {
  kv::StoreOptions options;
  options.path = path;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  INTAKE_REQUIRE_OK(store);
  absl::StatusOr<kv::ColumnFamily> handle = (*store)->Family(family);
  INTAKE_REQUIRE_OK(handle);
  int64_t count = 0;
  INTAKE_REQUIRE_OK(
      (*store)->Scan(*handle, kv::KeyRange::All(), [&](absl::string_view, absl::string_view) {
        ++count;
        return true;
      }));
  return count;
}

TEST_CASE("Compaction drops what is older than the retention period", "[intake][retention]") {
  TestIntake intake([](IntakeOptions& options) { options.retention = 7 * kDay; });
  AppendPredictions(*intake, "b1",
                    {Prediction("old", "price", 1, kStart - 8 * kDay, {{"customer", "c1"}}),
                     Prediction("new", "price", 1, kStart - kDay, {{"customer", "c1"}})});
  AppendOutcomes(*intake, "o1",
                 {OutcomeById("old", Double(1), kStart), OutcomeById("new", Double(2), kStart)});
  INTAKE_REQUIRE_OK(intake->Compact());

  CHECK(ScannedIds(*intake, "price", 1) == Ids{"new"});
  CHECK(JoinedLabels(*intake, "price", 1) ==
        std::vector<std::pair<std::string, std::string>>{{"new", "double_value: 2"}});
  // The id index went too: the old id is new again.
  CHECK(AppendPredictions(*intake, "b2", {Prediction("old", "price", 1, kStart)}).accepted == 1);

  // A week and an hour later everything of the first day is gone, the batch id included.
  intake.clock().Advance(7 * kDay + absl::Hours(1));
  INTAKE_REQUIRE_OK(intake->Compact());
  CHECK(ScannedIds(*intake, "price", 1).empty());
  const PredictionIntakeResult replay =
      AppendPredictions(*intake, "b1", {Prediction("again", "price", 1, kStart + 7 * kDay)});
  CHECK(replay.accepted == 1);
  CHECK(ScannedIds(*intake, "price", 1) == Ids{"again"});

  intake.Close();
  CHECK(RawEntries(intake.path(), kEntityIndexFamily) == 0);
  CHECK(RawEntries(intake.path(), kJoinedFamily) == 0);
  CHECK(RawEntries(intake.path(), kPredictionIdsFamily) == 1);
}

TEST_CASE("Compaction drops pending outcomes past the maximum label delay", "[intake][retention]") {
  TestIntake intake([](IntakeOptions& options) {
    options.retention = 30 * kDay;
    options.max_label_delay = absl::Hours(2);
  });
  AppendOutcomes(*intake, "o1",
                 {OutcomeById("p1", Double(1), kStart),
                  OutcomeByEntity("price", "customer", "c1", kStart + absl::Hours(1), Double(2))});
  intake.clock().Advance(absl::Hours(2) + absl::Minutes(30));
  INTAKE_REQUIRE_OK(intake->Compact());
  intake.Close();
  // The one by id counted from kStart is gone; the one by entity, from an hour later, waits.
  CHECK(RawEntries(intake.path(), kPendingFamily) == 1);

  intake.Open();
  intake.clock().Advance(absl::Hours(1));
  INTAKE_REQUIRE_OK(intake->Compact());
  intake.Close();
  CHECK(RawEntries(intake.path(), kPendingFamily) == 0);
}

TEST_CASE("A zero retention keeps everything", "[intake][retention]") {
  TestIntake intake([](IntakeOptions& options) {
    options.retention = absl::ZeroDuration();
    options.max_label_delay = absl::ZeroDuration();
  });
  AppendPredictions(*intake, "b1", {Prediction("ancient", "price", 1, absl::UnixEpoch())});
  AppendOutcomes(*intake, "o1", {OutcomeById("p1", Double(1), absl::UnixEpoch())});
  intake.clock().Advance(3650 * kDay);
  INTAKE_REQUIRE_OK(intake->Compact());
  CHECK(ScannedIds(*intake, "price", 1) == Ids{"ancient"});
  CHECK(testing::PendingCount(*intake) == 1);
}

}  // namespace
}  // namespace fabrique::monitoring
