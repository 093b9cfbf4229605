// Row codec: round trips of every type with nulls, rows written under older schema versions read
// under newer ones (and the reverse), corrupt rows, and the encoder's refusals by code. Also the
// storage key layout the codec's rows are stored under.

#include "libs/features/storage/row_codec.h"

#include <limits>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/storage_keys.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::TestRow;
using testing::TestValue;

v1::FeatureGroup AllTypes(int32_t version = 1) {
  return MakeGroup("all_types", "customer",
                   {{"f", v1::FEATURE_TYPE_FLOAT},
                    {"d", v1::FEATURE_TYPE_DOUBLE},
                    {"i", v1::FEATURE_TYPE_INT64},
                    {"b", v1::FEATURE_TYPE_BOOL},
                    {"s", v1::FEATURE_TYPE_STRING},
                    {"v", v1::FEATURE_TYPE_FLOAT_VECTOR}},
                   0, version);
}

// The value of feature `i` of `row`, as a TestValue.
TestValue Read(const RowView& row, const RowSchema& schema, int i) {
  if (row.IsNull(i)) return TestValue();
  switch (schema.type(i)) {
    case v1::FEATURE_TYPE_FLOAT:
      return row.Float(i);
    case v1::FEATURE_TYPE_DOUBLE:
      return row.Double(i);
    case v1::FEATURE_TYPE_INT64:
      return row.Int64(i);
    case v1::FEATURE_TYPE_BOOL:
      return row.Bool(i);
    case v1::FEATURE_TYPE_STRING:
      return std::string(row.String(i));
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      std::vector<float> values(row.VectorSize(i));
      row.CopyVector(i, values.data());
      return values;
    }
    default:
      return TestValue();
  }
}

std::vector<std::string> EncodeAll(const RowSchema& schema, const v1::RowBatch& batch) {
  absl::StatusOr<RowBatchEncoder> encoder = RowBatchEncoder::Create(schema, batch);
  STORAGE_REQUIRE_OK(encoder);
  std::vector<std::string> rows(encoder->rows());
  for (int i = 0; i < encoder->rows(); ++i) encoder->EncodeRow(i, &rows[i]);
  return rows;
}

TEST_CASE("Every type round-trips, nulls and extremes included", "[row_codec]") {
  const v1::FeatureGroup group = AllTypes();
  absl::StatusOr<RowSchema> schema = RowSchema::FromFeatureGroup(group);
  STORAGE_REQUIRE_OK(schema);
  const std::string with_zero("a\0b", 3);
  const std::vector<TestRow> rows = {
      {"c1", 1, {1.5f, 2.25, int64_t{-7}, true, std::string("hello"), std::vector<float>{1, 2, 3}}},
      {"c2", -5, {TestValue(), TestValue(), TestValue(), TestValue(), TestValue(), TestValue()}},
      {"c3",
       std::numeric_limits<int64_t>::max(),
       {std::numeric_limits<float>::lowest(), std::numeric_limits<double>::max(),
        std::numeric_limits<int64_t>::min(), false, with_zero, std::vector<float>{}}},
      {"c4", 0, {TestValue(), 0.0, TestValue(), false, std::string(), TestValue()}},
      {"c5",
       9,
       {0.0f, TestValue(), int64_t{1} << 40, TestValue(), std::string(300, 'x'),
        std::vector<float>(1000, 0.5f)}},
  };
  const std::vector<std::string> encoded = EncodeAll(*schema, MakeBatch(group, rows));
  RowView view;
  for (size_t r = 0; r < rows.size(); ++r) {
    INFO("row " << r);
    STORAGE_REQUIRE_OK(view.Parse(encoded[r], *schema));
    REQUIRE(view.event_time_micros() == rows[r].time);
    REQUIRE(*PeekEventTime(encoded[r]) == rows[r].time);
    REQUIRE(view.schema_version() == 1);
    REQUIRE(view.stored_features() == 6);
    for (int f = 0; f < schema->size(); ++f) {
      INFO("feature " << schema->name(f));
      REQUIRE(Read(view, *schema, f) == rows[r].values[f]);
    }
  }
  // Twenty float features stay compact: 9 fixed bytes, 2 varints, 3 bitmap bytes, 80 value bytes.
  std::vector<std::pair<std::string, v1::FeatureType>> floats;
  for (int i = 0; i < 20; ++i) floats.emplace_back("f" + std::to_string(i), v1::FEATURE_TYPE_FLOAT);
  const v1::FeatureGroup wide = MakeGroup("wide", "customer", floats);
  const RowSchema wide_schema = *RowSchema::FromFeatureGroup(wide);
  TestRow row{"c", 1, std::vector<TestValue>(20, 1.0f)};
  REQUIRE(EncodeAll(wide_schema, MakeBatch(wide, {row}))[0].size() == 94);
}

TEST_CASE("Numeric rows without nulls encode the same bytes on the fast path", "[row_codec]") {
  const v1::FeatureGroup group = MakeGroup("numeric", "customer",
                                           {{"f", v1::FEATURE_TYPE_FLOAT},
                                            {"d", v1::FEATURE_TYPE_DOUBLE},
                                            {"i", v1::FEATURE_TYPE_INT64},
                                            {"b", v1::FEATURE_TYPE_BOOL}},
                                           0, 3);
  const RowSchema schema = *RowSchema::FromFeatureGroup(group);
  const v1::RowBatch fast = MakeBatch(
      group, {{"c1", -5, {1.5f, -2.25, int64_t{-7}, true}},
              {"c2",
               std::numeric_limits<int64_t>::max(),
               {std::numeric_limits<float>::infinity(), 1e300, int64_t{1} << 62, false}}});
  // Explicit all-false null flags take the general path: the bytes must not differ.
  v1::RowBatch general = fast;
  for (v1::FeatureColumn& column : *general.mutable_columns()) {
    for (int r = 0; r < general.entity_keys_size(); ++r)
      column.mutable_values()->add_is_null(false);
  }
  const std::vector<std::string> fast_rows = EncodeAll(schema, fast);
  REQUIRE(fast_rows == EncodeAll(schema, general));
  RowView view;
  STORAGE_REQUIRE_OK(view.Parse(fast_rows[1], schema));
  REQUIRE(view.event_time_micros() == std::numeric_limits<int64_t>::max());
  REQUIRE(view.schema_version() == 3);
  REQUIRE(view.Double(1) == 1e300);
  REQUIRE_FALSE(view.Bool(3));
}

TEST_CASE("Encoding a whole batch gives each row's bytes, on both paths", "[row_codec]") {
  const v1::FeatureGroup numeric = MakeGroup("numeric", "customer",
                                             {{"f", v1::FEATURE_TYPE_FLOAT},
                                              {"d", v1::FEATURE_TYPE_DOUBLE},
                                              {"i", v1::FEATURE_TYPE_INT64},
                                              {"b", v1::FEATURE_TYPE_BOOL}});
  const v1::FeatureGroup mixed = AllTypes();
  std::vector<TestRow> numeric_rows, mixed_rows;
  for (int r = 0; r < 50; ++r) {
    numeric_rows.push_back(
        {"c" + std::to_string(r % 7), r, {r * 0.5f, r * -1.25, int64_t{r} << 33, r % 3 == 0}});
    mixed_rows.push_back({"c" + std::to_string(r),
                          -r,
                          {r % 4 == 0 ? TestValue() : TestValue(r * 1.5f), 2.5 * r, int64_t{r},
                           r % 2 == 1, std::string(r, 'x'), std::vector<float>(r % 5, 1.0f)}});
  }
  for (const auto& [group, rows] :
       {std::make_pair(numeric, numeric_rows), std::make_pair(mixed, mixed_rows)}) {
    const RowSchema schema = *RowSchema::FromFeatureGroup(group);
    const v1::RowBatch batch = MakeBatch(group, rows);
    const std::vector<std::string> one_by_one = EncodeAll(schema, batch);
    absl::StatusOr<RowBatchEncoder> encoder = RowBatchEncoder::Create(schema, batch);
    STORAGE_REQUIRE_OK(encoder);
    std::vector<uint8_t> skip(rows.size(), 0);
    skip[3] = skip[17] = 1;
    for (const bool masked : {false, true}) {
      EncodedRows all;
      encoder->EncodeAll(masked ? absl::MakeConstSpan(skip) : absl::Span<const uint8_t>(), &all);
      for (size_t r = 0; r < rows.size(); ++r) {
        INFO(group.spec().name() << " row " << r << (masked ? " masked" : ""));
        if (masked && skip[r] != 0) continue;  // Not read by the write paths.
        REQUIRE(all.row(static_cast<int>(r)) == one_by_one[r]);
      }
    }
  }
}

TEST_CASE("Rows written under an older schema read under a newer one", "[row_codec]") {
  v1::FeatureGroup v1_group =
      MakeGroup("g", "customer", {{"a", v1::FEATURE_TYPE_INT64}, {"s", v1::FEATURE_TYPE_STRING}});
  v1::FeatureGroup v2_group = v1_group;
  v2_group.set_schema_version(2);
  for (auto [name, type] : std::vector<std::pair<std::string, v1::FeatureType>>{
           {"added_vector", v1::FEATURE_TYPE_FLOAT_VECTOR},
           {"added_bool", v1::FEATURE_TYPE_BOOL}}) {
    v1::FeatureSpec* feature = v2_group.mutable_spec()->add_features();
    feature->set_name(name);
    feature->set_type(type);
    feature->set_since_version(2);
  }
  const RowSchema old_schema = *RowSchema::FromFeatureGroup(v1_group);
  const RowSchema new_schema = *RowSchema::FromFeatureGroup(v2_group);

  const std::string old_row =
      EncodeAll(old_schema, MakeBatch(v1_group, {{"c", 10, {int64_t{4}, std::string("x")}}}))[0];
  RowView view;
  STORAGE_REQUIRE_OK(view.Parse(old_row, new_schema));
  REQUIRE(view.schema_version() == 1);
  REQUIRE(view.Int64(0) == 4);
  REQUIRE(view.String(1) == "x");
  REQUIRE(view.IsNull(2));  // Added later: missing in old rows.
  REQUIRE(view.IsNull(3));

  // A newer row read with an older schema (a reader that has not seen the new version yet).
  const std::string new_row = EncodeAll(
      new_schema,
      MakeBatch(v2_group,
                {{"c", 11, {int64_t{5}, TestValue(), std::vector<float>{1.0f}, true}}}))[0];
  STORAGE_REQUIRE_OK(view.Parse(new_row, old_schema));
  REQUIRE(view.schema_version() == 2);
  REQUIRE(view.Int64(0) == 5);
  REQUIRE(view.IsNull(1));
  STORAGE_REQUIRE_OK(view.Parse(new_row, new_schema));
  REQUIRE(view.VectorSize(2) == 1);
  REQUIRE(view.Bool(3));
}

TEST_CASE("Corrupt rows are DATA_LOSS, never a crash", "[row_codec]") {
  const v1::FeatureGroup group = AllTypes();
  const RowSchema schema = *RowSchema::FromFeatureGroup(group);
  const std::string row =
      EncodeAll(schema, MakeBatch(group, {{"c",
                                           1,
                                           {1.0f, 2.0, int64_t{3}, true, std::string("abc"),
                                            std::vector<float>{1, 2}}}}))[0];
  RowView view;
  for (size_t cut = 0; cut < row.size(); ++cut) {
    INFO("cut at " << cut);
    STORAGE_REQUIRE_CODE(view.Parse(row.substr(0, cut), schema), absl::StatusCode::kDataLoss);
  }
  std::string bad_tag = row;
  bad_tag[0] = 0x7f;
  STORAGE_REQUIRE_CODE(view.Parse(bad_tag, schema), absl::StatusCode::kDataLoss);
  STORAGE_REQUIRE_CODE(PeekEventTime("x"), absl::StatusCode::kDataLoss);
}

TEST_CASE("The encoder refuses batches that do not fit the schema", "[row_codec]") {
  const v1::FeatureGroup group = AllTypes();
  const RowSchema schema = *RowSchema::FromFeatureGroup(group);
  v1::RowBatch batch = MakeBatch(group, {{"c", 1, {1.0f}}});

  v1::RowBatch unknown = batch;
  unknown.mutable_columns(0)->mutable_feature()->set_feature("nope");
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, unknown), absl::StatusCode::kNotFound);

  v1::RowBatch other_group = batch;
  other_group.mutable_columns(0)->mutable_feature()->set_group("other");
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, other_group),
                       absl::StatusCode::kInvalidArgument);

  v1::RowBatch wrong_type = batch;
  wrong_type.mutable_columns(0)->mutable_values()->mutable_double_values()->add_values(1.0);
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, wrong_type),
                       absl::StatusCode::kInvalidArgument);

  v1::RowBatch short_column = batch;
  short_column.mutable_columns(0)->mutable_values()->mutable_float_values()->add_values(2.0f);
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, short_column),
                       absl::StatusCode::kInvalidArgument);

  v1::RowBatch twice = batch;
  *twice.add_columns() = batch.columns(0);
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, twice), absl::StatusCode::kInvalidArgument);

  v1::RowBatch times = batch;
  times.add_event_time_unix_micros(2);
  STORAGE_REQUIRE_CODE(RowBatchEncoder::Create(schema, times), absl::StatusCode::kInvalidArgument);

  // Absent columns are null.
  v1::RowBatch only_keys;
  only_keys.add_entity_keys("c");
  only_keys.add_event_time_unix_micros(3);
  std::string row = EncodeAll(schema, only_keys)[0];
  RowView view;
  STORAGE_REQUIRE_OK(view.Parse(row, schema));
  for (int f = 0; f < schema.size(); ++f) REQUIRE(view.IsNull(f));
}

TEST_CASE("Schemas are compiled in storage order and refuse bad definitions", "[row_codec]") {
  v1::FeatureGroup group = AllTypes();
  group.mutable_spec()->mutable_features(2)->set_name("f");
  STORAGE_REQUIRE_CODE(RowSchema::FromFeatureGroup(group), absl::StatusCode::kInvalidArgument);
  group = AllTypes();
  group.mutable_spec()->mutable_features(0)->set_since_version(3);
  STORAGE_REQUIRE_CODE(RowSchema::FromFeatureGroup(group), absl::StatusCode::kInvalidArgument);
  group = AllTypes();
  group.mutable_spec()->mutable_features(1)->set_type(v1::FEATURE_TYPE_UNSPECIFIED);
  STORAGE_REQUIRE_CODE(RowSchema::FromFeatureGroup(group), absl::StatusCode::kInvalidArgument);
  group = AllTypes();
  group.mutable_spec()->mutable_ttl()->set_seconds(90);
  const RowSchema schema = *RowSchema::FromFeatureGroup(group);
  REQUIRE(schema.ttl_micros() == 90'000'000);
  REQUIRE(schema.IndexOf("s") == 4);
  REQUIRE(schema.IndexOf("zz") == -1);
}

TEST_CASE("History keys sort by group, entity, then newest first", "[storage_keys]") {
  const std::string a_new = HistoryKey("g", "a", 100);
  const std::string a_old = HistoryKey("g", "a", -100);
  const std::string a_zero = HistoryKey("g", std::string("a\0", 2), 500);
  const std::string b = HistoryKey("g", "b", 0);
  const std::string other_group = HistoryKey("h", "a", 0);
  REQUIRE(a_new < a_old);
  REQUIRE(a_old < a_zero);
  REQUIRE(a_zero < b);
  REQUIRE(b < other_group);
  REQUIRE(HistoryKeyEventTime(a_old) == -100);
  REQUIRE(a_new.substr(0, a_new.size() - kHistoryTimeBytes) == OnlineKey("g", "a"));
  REQUIRE(EncodedStringLength(a_new) == GroupKeyPrefix("g").size());
  REQUIRE(EncodedStringLength(HistoryKey(std::string("g\0x", 3), "a", 1)) ==
          GroupKeyPrefix(std::string("g\0x", 3)).size());
  absl::StatusOr<HistoryKeyParts> parts = ParseHistoryKey(a_zero);
  STORAGE_REQUIRE_OK(parts);
  REQUIRE(parts->group == "g");
  REQUIRE(parts->entity == std::string("a\0", 2));
  REQUIRE(parts->event_time_micros == 500);
  STORAGE_REQUIRE_CODE(ParseHistoryKey("garbage"), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fabrique::features
