// The feature store's training set streamed into training columns: every feature type, nulls,
// vectors, labels of each kind (rows without one dropped), bad chunks refused, and splits by
// time and at random (reproducible by seed).

#include "libs/training/training_set_table.h"

#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/time_util.h"

namespace fabrique::training {
namespace {

v1::TrainingSetHeader Header(v1::FeatureType label) {
  v1::TrainingSetHeader header;
  header.set_dataset_id("ds-1");
  const std::vector<std::pair<std::string, v1::FeatureType>> features = {
      {"amount", v1::FEATURE_TYPE_DOUBLE},
      {"count", v1::FEATURE_TYPE_INT64},
      {"vip", v1::FEATURE_TYPE_BOOL},
      {"country", v1::FEATURE_TYPE_STRING},
      {"embedding", v1::FEATURE_TYPE_FLOAT_VECTOR}};
  for (const auto& [name, type] : features) {
    v1::VersionedFeatureRef* ref = header.add_features();
    ref->mutable_ref()->set_group("payments");
    ref->mutable_ref()->set_feature(name);
    ref->set_schema_version(2);
    ref->set_type(type);
  }
  header.set_label_type(label);
  return header;
}

// Rows i = first..first+n-1: amount i, count 2i, vip i odd, country "FR"/"DE", embedding
// [i, -i]; row 1 has nulls everywhere but the label; the label is i % 2 (or its text).
v1::TrainingSetRows Chunk(int first, int n, bool string_labels) {
  v1::TrainingSetRows rows;
  for (int f = 0; f < 5; ++f) rows.add_features();
  for (int i = first; i < first + n; ++i) {
    rows.add_event_time_unix_micros(1'000'000LL * i);
    const bool null = i == 1;
    v1::ValueColumn* amount = rows.mutable_features(0)->mutable_values();
    amount->mutable_double_values()->add_values(i);
    rows.mutable_features(1)->mutable_values()->mutable_int64_values()->add_values(2 * i);
    rows.mutable_features(2)->mutable_values()->mutable_bool_values()->add_values(i % 2 == 1);
    rows.mutable_features(3)->mutable_values()->mutable_string_values()->add_values(i % 2 ? "FR"
                                                                                          : "DE");
    v1::FloatVector* vector =
        rows.mutable_features(4)->mutable_values()->mutable_float_vector_values()->add_values();
    vector->add_values(i);
    vector->add_values(-i);
    for (int f = 0; f < 5; ++f) rows.mutable_features(f)->mutable_values()->add_is_null(null);
    if (string_labels) {
      rows.mutable_labels()->mutable_string_values()->add_values(i % 2 ? "fraud" : "ok");
    } else {
      rows.mutable_labels()->mutable_int64_values()->add_values(i % 2);
    }
  }
  return rows;
}

TEST_CASE("Chunks become columns: every type, nulls and vectors", "[training_set]") {
  absl::StatusOr<TrainingSetTable> table =
      TrainingSetTable::Start(Header(v1::FEATURE_TYPE_INT64), v1::TASK_BINARY_CLASSIFICATION);
  REQUIRE(table.ok());
  REQUIRE(table->Add(Chunk(0, 3, false)).ok());
  REQUIRE(table->Add(Chunk(3, 2, false)).ok());
  const LabeledTable& t = table->table();
  REQUIRE(t.features.rows == 5);
  REQUIRE(t.features.Validate().ok());
  CHECK(t.features.columns[0].name == "payments:amount");
  CHECK(t.features.columns[1].numeric[2] == 4.0f);
  CHECK(std::isnan(t.features.columns[0].numeric[1]));  // The null row.
  CHECK(t.features.columns[2].numeric[3] == 1.0f);      // A bool as 0/1.
  CHECK(t.features.columns[3].categorical);
  CHECK(t.features.columns[3].missing == std::vector<uint8_t>{0, 1, 0, 0, 0});
  CHECK(t.features.columns[4].width == 2);
  CHECK(t.features.columns[4].numeric[8] == 4.0f);
  CHECK(std::isnan(t.features.columns[4].numeric[2]));
  CHECK(t.labels == std::vector<double>{0, 1, 0, 1, 0});
  CHECK(table->event_times()[4] == 4'000'000);
}

TEST_CASE("Labels: string classes by name, rows without a label dropped", "[training_set]") {
  absl::StatusOr<TrainingSetTable> table =
      TrainingSetTable::Start(Header(v1::FEATURE_TYPE_STRING), v1::TASK_BINARY_CLASSIFICATION);
  REQUIRE(table.ok());
  v1::TrainingSetRows chunk = Chunk(0, 4, true);
  chunk.mutable_labels()->add_is_null(false);
  chunk.mutable_labels()->add_is_null(false);
  chunk.mutable_labels()->add_is_null(true);  // Row 2: no label.
  chunk.mutable_labels()->add_is_null(false);
  REQUIRE(table->Add(chunk).ok());
  CHECK(table->rows_without_label() == 1);
  LabeledTable train, validation;
  v1::DataSplit all_train;
  all_train.mutable_random()->set_validation_fraction(0.0001);  // Rounds to none held out.
  REQUIRE(table->Split(all_train, &train, &validation).ok());
  CHECK(table->class_names() == std::vector<std::string>{"fraud", "ok"});
  CHECK(train.labels == std::vector<double>{1, 0, 0});  // ok, fraud, fraud (row 2 dropped).

  CHECK(TrainingSetTable::Start(Header(v1::FEATURE_TYPE_STRING), v1::TASK_REGRESSION)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(TrainingSetTable::Start(Header(v1::FEATURE_TYPE_DOUBLE), v1::TASK_BINARY_CLASSIFICATION)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Chunks that do not match the header are refused", "[training_set]") {
  absl::StatusOr<TrainingSetTable> table =
      TrainingSetTable::Start(Header(v1::FEATURE_TYPE_INT64), v1::TASK_BINARY_CLASSIFICATION);
  REQUIRE(table.ok());
  v1::TrainingSetRows short_column = Chunk(0, 3, false);
  short_column.mutable_features(1)
      ->mutable_values()
      ->mutable_int64_values()
      ->mutable_values()
      ->RemoveLast();
  CHECK(table->Add(short_column).code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(table->Add(Chunk(0, 1, false)).ok());
  v1::TrainingSetRows wide = Chunk(1, 1, false);
  wide.mutable_features(4)->mutable_values()->clear_is_null();
  wide.mutable_features(4)
      ->mutable_values()
      ->mutable_float_vector_values()
      ->mutable_values(0)
      ->add_values(9);
  const absl::Status width = table->Add(wide);
  CHECK(width.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(width.message(), "vectors of 2 and 3"));
  v1::TrainingSetRows negative = Chunk(2, 1, false);
  negative.mutable_labels()->mutable_int64_values()->set_values(0, -1);
  CHECK(table->Add(negative).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Splits by time and at random, reproducibly", "[training_set]") {
  absl::StatusOr<TrainingSetTable> table =
      TrainingSetTable::Start(Header(v1::FEATURE_TYPE_INT64), v1::TASK_BINARY_CLASSIFICATION);
  REQUIRE(table.ok());
  REQUIRE(table->Add(Chunk(0, 100, false)).ok());
  LabeledTable train, validation;
  v1::DataSplit by_time;
  *by_time.mutable_by_time()->mutable_validation_start() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(80'000'000);
  REQUIRE(table->Split(by_time, &train, &validation).ok());
  CHECK(train.features.rows == 80);
  CHECK(validation.features.rows == 20);
  CHECK(validation.features.columns[0].numeric[0] == 80.0f);

  v1::DataSplit random;
  random.mutable_random()->set_validation_fraction(0.25);
  random.mutable_random()->set_seed(3);
  LabeledTable again_train, again_validation;
  REQUIRE(table->Split(random, &train, &validation).ok());
  REQUIRE(table->Split(random, &again_train, &again_validation).ok());
  CHECK(validation.features.rows == 25);
  CHECK(validation.features.columns[0].numeric == again_validation.features.columns[0].numeric);

  *by_time.mutable_by_time()->mutable_validation_start() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(0);
  const absl::Status none = table->Split(by_time, &train, &validation);
  CHECK(none.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(none.message(), "move validation_start later"));
}

}  // namespace
}  // namespace fabrique::training
