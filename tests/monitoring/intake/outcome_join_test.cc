// Outcomes: joins by prediction id and by entity and event time (the latest prediction at or
// before it), outcomes that come before their prediction, their expiry after the maximum label
// delay, and labels of the wrong type refused with their row and reason.

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "catch2/catch.hpp"
#include "intake_test_util.h"
#include "libs/kv/write_batch.h"
#include "libs/monitoring/intake/intake_families.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/intake_values.h"

namespace fabrique::monitoring {
namespace {

using testing::AppendOutcomes;
using testing::AppendPredictions;
using testing::Bool;
using testing::Double;
using testing::Int;
using testing::JoinedLabels;
using testing::kStart;
using testing::OutcomeByEntity;
using testing::OutcomeById;
using testing::PendingCount;
using testing::Prediction;
using testing::String;
using testing::TestIntake;

using Joined = std::vector<std::pair<std::string, std::string>>;
const absl::Duration kMinute = absl::Minutes(1);

TEST_CASE("An outcome joins its prediction by id, once", "[intake][outcomes]") {
  TestIntake intake;
  AppendPredictions(*intake, "b1",
                    {Prediction("p1", "price", 1, kStart), Prediction("p2", "price", 1, kStart)});
  const OutcomeIntakeResult result =
      AppendOutcomes(*intake, "o1", {OutcomeById("p1", Double(10), kStart + kMinute)});
  CHECK(result.accepted == 1);
  CHECK(result.matched == 1);
  CHECK(result.pending == 0);
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"p1", "double_value: 10"}});

  // A second outcome for the same prediction, in this batch or a later one, keeps the first.
  const OutcomeIntakeResult again =
      AppendOutcomes(*intake, "o2",
                     {OutcomeById("p1", Double(11), kStart), OutcomeById("p2", Double(20), kStart),
                      OutcomeById("p2", Double(21), kStart)});
  CHECK(again.matched == 1);
  CHECK(again.duplicates == 2);
  CHECK(JoinedLabels(*intake, "price", 1) ==
        Joined{{"p1", "double_value: 10"}, {"p2", "double_value: 20"}});

  // A replayed batch answers as before and changes nothing.
  const OutcomeIntakeResult replay =
      AppendOutcomes(*intake, "o1", {OutcomeById("p2", Double(99), kStart)});
  CHECK(replay.matched == 1);
  CHECK(replay.duplicates == 0);
  CHECK(JoinedLabels(*intake, "price", 1) ==
        Joined{{"p1", "double_value: 10"}, {"p2", "double_value: 20"}});
}

TEST_CASE("An outcome by entity joins the latest prediction at or before its event time",
          "[intake][outcomes]") {
  TestIntake intake;
  AppendPredictions(
      *intake, "b1",
      {Prediction("t0", "price", 1, kStart, {{"customer", "c1"}}),
       Prediction("t10", "price", 2, kStart + 10 * kMinute, {{"customer", "c1"}}),
       Prediction("t20", "price", 2, kStart + 20 * kMinute, {{"customer", "c1"}}),
       Prediction("other", "price", 1, kStart + 12 * kMinute, {{"customer", "c2"}}),
       Prediction("elsewhere", "rent", 1, kStart + 12 * kMinute, {{"customer", "c1"}})});
  const OutcomeIntakeResult result =
      AppendOutcomes(*intake, "o1",
                     {OutcomeByEntity("price", "customer", "c1", kStart + 15 * kMinute, Double(1)),
                      OutcomeByEntity("price", "customer", "c1", kStart + 20 * kMinute, Double(2)),
                      OutcomeByEntity("price", "customer", "c1", kStart + 5 * kMinute, Double(3))});
  CHECK(result.matched == 3);
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"t0", "double_value: 3"}});
  // At the event time itself counts as at or before; the join crosses versions of the model.
  CHECK(JoinedLabels(*intake, "price", 2) ==
        Joined{{"t10", "double_value: 1"}, {"t20", "double_value: 2"}});
  CHECK(JoinedLabels(*intake, "rent", 1).empty());

  // Before the entity's first prediction there is nothing to join yet: it waits.
  const OutcomeIntakeResult early = AppendOutcomes(
      *intake, "o2", {OutcomeByEntity("price", "customer", "c1", kStart - kMinute, Double(4))});
  CHECK(early.pending == 1);
  CHECK(early.matched == 0);
}

TEST_CASE("An outcome that names no entity joins a model's single entity", "[intake][outcomes]") {
  TestIntake intake;
  AppendPredictions(*intake, "b1", {Prediction("p1", "price", 1, kStart, {{"customer", "c1"}})});
  CHECK(AppendOutcomes(*intake, "o1", {OutcomeByEntity("price", "", "c1", kStart, Double(1))})
            .matched == 1);
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"p1", "double_value: 1"}});
}

TEST_CASE("An outcome that names no entity joins the latest prediction that named one alone",
          "[intake][outcomes]") {
  TestIntake intake;
  AppendPredictions(
      *intake, "b1",
      {Prediction("cust", "price", 1, kStart + 10 * kMinute, {{"customer", "k1"}}),
       Prediction("acct", "price", 1, kStart + 20 * kMinute, {{"account", "k1"}}),
       // Two entities: it answers outcomes that name either, never one that names none.
       Prediction("pair", "price", 1, kStart + 30 * kMinute,
                  {{"account", "k1"}, {"customer", "k1"}}),
       Prediction("unnamed", "price", 1, kStart + 40 * kMinute, {{"", "k2"}}),
       Prediction("other-key", "price", 1, kStart + 25 * kMinute, {{"customer", "k3"}})});
  const OutcomeIntakeResult result = AppendOutcomes(
      *intake, "o1",
      {// Latest across the entity names, at or before the event time.
       OutcomeByEntity("price", "", "k1", kStart + 15 * kMinute, Double(1)),
       OutcomeByEntity("price", "", "k1", kStart + 35 * kMinute, Double(2)),
       // A prediction under "" itself answers too.
       OutcomeByEntity("price", "", "k2", kStart + 45 * kMinute, Double(3)),
       // Named: the two-entity prediction answers.
       OutcomeByEntity("price", "customer", "k1", kStart + 31 * kMinute, Double(4))});
  CHECK(result.matched == 4);
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"cust", "double_value: 1"},
                                                    {"acct", "double_value: 2"},
                                                    {"pair", "double_value: 4"},
                                                    {"unnamed", "double_value: 3"}});
  // Before the key's first prediction alone, nothing answers: it waits.
  CHECK(AppendOutcomes(*intake, "o2",
                       {OutcomeByEntity("price", "", "k1", kStart + 5 * kMinute, Double(5))})
            .pending == 1);
}

TEST_CASE("Entity index entries stored before the sole-entity mark still join as they did",
          "[intake][outcomes]") {
  // Entries of that layout: a prediction that named one entity alone was indexed under its name
  // (unmarked) and under "" as well; one that named two, under each name only.
  TestIntake intake;
  AppendPredictions(
      *intake, "b1",
      {Prediction("alone", "price", 1, kStart, {{"customer", "k1"}}),
       Prediction("two", "price", 1, kStart + kMinute, {{"customer", "k1"}, {"account", "k1"}})});
  absl::StatusOr<kv::ColumnFamily> family = intake->database().Family(kEntityIndexFamily);
  INTAKE_REQUIRE_OK(family);
  const int64_t alone_time = TimeMicros(kStart);
  const int64_t two_time = TimeMicros(kStart + kMinute);
  const std::string alone_key = PredictionKey("price", 1, alone_time, "alone");
  const std::string two_key = PredictionKey("price", 1, two_time, "two");
  kv::WriteBatch old_layout;
  old_layout.Put(*family, EntityIndexKey("price", "customer", "k1", alone_time, "alone"),
                 WithTime(alone_time, alone_key));
  old_layout.Put(*family, EntityIndexKey("price", "", "k1", alone_time, "alone"),
                 WithTime(alone_time, alone_key));
  old_layout.Put(*family, EntityIndexKey("price", "customer", "k1", two_time, "two"),
                 WithTime(two_time, two_key));
  old_layout.Put(*family, EntityIndexKey("price", "account", "k1", two_time, "two"),
                 WithTime(two_time, two_key));
  INTAKE_REQUIRE_OK(intake->database().Write(old_layout, kv::SyncMode::kSync));

  // "two" is later, but named two entities: the outcome that names none joins "alone".
  CHECK(AppendOutcomes(*intake, "o1",
                       {OutcomeByEntity("price", "", "k1", kStart + 5 * kMinute, Double(1))})
            .matched == 1);
  CHECK(AppendOutcomes(*intake, "o2",
                       {OutcomeByEntity("price", "account", "k1", kStart + 5 * kMinute, Double(2))})
            .matched == 1);
  CHECK(JoinedLabels(*intake, "price", 1) ==
        Joined{{"alone", "double_value: 1"}, {"two", "double_value: 2"}});
}

TEST_CASE("Index entries whose values hold the whole prediction key still join",
          "[intake][outcomes]") {
  // The layout before the compact index values (intake_values.h): the prediction ids' and the
  // entity index's values held the prediction's whole key, the latter with the sole-entity mark.
  TestIntake intake;
  AppendPredictions(*intake, "b1",
                    {Prediction("p1", "price", 2, kStart, {{"customer", "k1"}}),
                     Prediction("p2", "price", 2, kStart + kMinute, {{"customer", "k2"}})});
  absl::StatusOr<kv::ColumnFamily> ids = intake->database().Family(kPredictionIdsFamily);
  absl::StatusOr<kv::ColumnFamily> entities = intake->database().Family(kEntityIndexFamily);
  INTAKE_REQUIRE_OK(ids);
  INTAKE_REQUIRE_OK(entities);
  kv::WriteBatch full_layout;
  for (const auto& [id, entity_key, time] :
       {std::tuple<std::string, std::string, absl::Time>{"p1", "k1", kStart},
        std::tuple<std::string, std::string, absl::Time>{"p2", "k2", kStart + kMinute}}) {
    const int64_t micros = TimeMicros(time);
    const std::string prediction_key = PredictionKey("price", 2, micros, id);
    full_layout.Put(*ids, PredictionIdKey(id), WithTime(micros, prediction_key));
    full_layout.Put(*entities, EntityIndexKey("price", "customer", entity_key, micros, id),
                    WithTime(micros, prediction_key + "S"));
  }
  INTAKE_REQUIRE_OK(intake->database().Write(full_layout, kv::SyncMode::kSync));

  // By id; by entity with the outcome naming none, which only the sole-entity mark allows.
  CHECK(AppendOutcomes(*intake, "o1", {OutcomeById("p1", Double(1), kStart + kMinute)}).matched ==
        1);
  CHECK(AppendOutcomes(*intake, "o2",
                       {OutcomeByEntity("price", "", "k2", kStart + 5 * kMinute, Double(2))})
            .matched == 1);
  CHECK(intake->ModelOfPrediction("p2").value() == std::optional<std::string>("price"));
  CHECK(JoinedLabels(*intake, "price", 2) ==
        Joined{{"p1", "double_value: 1"}, {"p2", "double_value: 2"}});
}

TEST_CASE("An outcome that comes before its prediction waits and is joined when it comes",
          "[intake][outcomes]") {
  TestIntake intake;
  const OutcomeIntakeResult result =
      AppendOutcomes(*intake, "o1",
                     {OutcomeById("p1", Double(7), kStart),
                      OutcomeByEntity("price", "customer", "c1", kStart + 15 * kMinute, Double(8)),
                      OutcomeById("p1", Double(9), kStart)});
  CHECK(result.accepted == 2);
  CHECK(result.pending == 2);
  CHECK(result.duplicates == 1);
  CHECK(PendingCount(*intake) == 2);

  const PredictionIntakeResult arrived = AppendPredictions(
      *intake, "b1",
      {Prediction("p1", "price", 1, kStart),
       Prediction("t5", "price", 1, kStart + 5 * kMinute, {{"customer", "c1"}}),
       Prediction("t10", "price", 1, kStart + 10 * kMinute, {{"customer", "c1"}}),
       Prediction("t30", "price", 1, kStart + 30 * kMinute, {{"customer", "c1"}})});
  CHECK(arrived.outcomes_joined == 2);
  CHECK(JoinedLabels(*intake, "price", 1) ==
        Joined{{"p1", "double_value: 7"}, {"t10", "double_value: 8"}});
  CHECK(PendingCount(*intake) == 0);
}

TEST_CASE("A pending outcome expires after the maximum label delay", "[intake][outcomes]") {
  TestIntake intake([](IntakeOptions& options) { options.max_label_delay = absl::Hours(1); });
  CHECK(AppendOutcomes(*intake, "o1",
                       {OutcomeById("p1", Double(1), kStart),
                        OutcomeByEntity("price", "customer", "c1", kStart, Double(2))})
            .pending == 2);
  intake.clock().Advance(absl::Hours(1) + kMinute);
  CHECK(PendingCount(*intake) == 0);

  const PredictionIntakeResult late =
      AppendPredictions(*intake, "b1",
                        {Prediction("p1", "price", 1, kStart),
                         Prediction("p2", "price", 1, kStart - kMinute, {{"customer", "c1"}})});
  CHECK(late.accepted == 2);
  CHECK(late.outcomes_joined == 0);
  CHECK(JoinedLabels(*intake, "price", 1).empty());

  // One already past the delay when it comes, with no prediction to join, is refused.
  const OutcomeIntakeResult stale =
      AppendOutcomes(*intake, "o2", {OutcomeById("p9", Double(1), kStart)});
  CHECK(stale.rejected == 1);
  REQUIRE(stale.errors.size() == 1);
  CHECK(stale.errors[0].row == 0);
  CHECK(stale.errors[0].reason ==
        "no prediction to join, and older than the maximum label delay (1h)");
}

v1::Task TaskOf(absl::string_view model) {
  if (model == "churn") return v1::TASK_BINARY_CLASSIFICATION;
  if (model == "segment") return v1::TASK_MULTICLASS_CLASSIFICATION;
  if (model == "price") return v1::TASK_REGRESSION;
  return v1::TASK_UNSPECIFIED;
}

TEST_CASE("Outcomes with a label of the wrong type are refused with their row and reason",
          "[intake][outcomes]") {
  TestIntake intake;
  AppendPredictions(*intake, "b1",
                    {Prediction("c1", "churn", 1, kStart), Prediction("c2", "churn", 1, kStart),
                     Prediction("r1", "price", 1, kStart), Prediction("r2", "price", 1, kStart),
                     Prediction("s1", "segment", 1, kStart)});
  v1::Outcome no_label = OutcomeById("r2", Double(0), kStart);
  no_label.clear_label();
  v1::Outcome no_join = OutcomeById("r2", Double(0), kStart);
  no_join.clear_prediction_id();
  const OutcomeIntakeResult result = AppendOutcomes(
      *intake, "o1",
      {OutcomeById("c1", Int(2), kStart), OutcomeById("c2", Bool(true), kStart),
       OutcomeById("r1", String("high"), kStart), no_label, no_join,
       OutcomeByEntity("price", "", "k", kStart, String("low")), OutcomeById("s1", Int(-1), kStart),
       OutcomeById("r2", Double(2.5), kStart), OutcomeById("unseen", Bool(true), kStart)},
      TaskOf);
  CHECK(result.matched == 2);
  CHECK(result.pending == 1);
  CHECK(result.rejected == 6);
  CHECK(result.errors ==
        std::vector<RowError>{
            {0, "label 2 is not 0 or 1 for a binary classification model (model churn)"},
            {2, "label is a string, expected a number for a regression model (model price)"},
            {3, "label is missing (model price)"},
            {4, "names no prediction: set prediction_id or entity_event"},
            {5, "label is a string, expected a number for a regression model (model price)"},
            {6, "label -1 is a negative class index (model segment)"},
        });
  CHECK(JoinedLabels(*intake, "churn", 1) == Joined{{"c2", "bool_value: true"}});
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"r2", "double_value: 2.5"}});
}

TEST_CASE("A waiting outcome whose label does not fit the model is refused when it arrives",
          "[intake][outcomes]") {
  TestIntake intake;
  CHECK(AppendOutcomes(
            *intake, "o1",
            {OutcomeById("r1", String("high"), kStart), OutcomeById("r2", Double(2.5), kStart)},
            TaskOf)
            .pending == 2);
  const std::vector<v1::PredictionRecord> records = {Prediction("r1", "price", 1, kStart),
                                                     Prediction("r2", "price", 1, kStart)};
  const PredictionIntakeResult arrived = *intake->AppendPredictions("b1", records, TaskOf);
  CHECK(arrived.outcomes_joined == 1);
  CHECK(arrived.outcomes_refused == 1);
  CHECK(JoinedLabels(*intake, "price", 1) == Joined{{"r2", "double_value: 2.5"}});
  CHECK(PendingCount(*intake) == 0);
  // The replay answers the same counts.
  CHECK(AppendPredictions(*intake, "b1", {}).outcomes_refused == 1);
}

}  // namespace
}  // namespace fabrique::monitoring
