// Online lookup: many entities by many features across groups in one call, per-value status
// (PRESENT, MISSING, EXPIRED), TTL enforced at read time against an injected clock, features
// added after a row was written, and refusals by code.

#include "libs/features/storage/online_reader.h"

#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/features/storage/feature_writer.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::LookupRequest;
using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::Ref;
using testing::TestValue;
using testing::ValueAt;

constexpr int64_t kSecond = 1'000'000;

struct Fixture {
  Fixture() {
    store = OpenStore();
    FeatureWriterOptions writer_options;
    writer_options.store = store.get();
    writer = *FeatureWriter::Create(writer_options);
    OnlineReaderOptions reader_options;
    reader_options.store = store.get();
    reader_options.clock = &clock;
    reader = *OnlineReader::Create(reader_options);
  }
  int64_t now() const { return absl::ToUnixMicros(clock.Now()); }

  core::FakeClock clock;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<FeatureWriter> writer;
  std::unique_ptr<OnlineReader> reader;
};

TEST_CASE("TTL is enforced at read time: PRESENT turns EXPIRED as the clock moves",
          "[online_reader]") {
  Fixture f;
  const v1::FeatureGroup group =
      MakeGroup("clicks", "customer", {{"n", v1::FEATURE_TYPE_INT64}}, /*ttl_seconds=*/60);
  const int64_t written = f.now() - 10 * kSecond;
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", written, {int64_t{7}}}})));
  const v1::LookupOnlineRequest request = LookupRequest({Ref("clicks", "n")}, {{"", {"c1"}}});
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;

  STORAGE_REQUIRE_OK(f.reader->Lookup(request, groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  REQUIRE(response.columns(0).values().int64_values().values(0) == 7);
  REQUIRE(response.columns(0).event_time_unix_micros(0) == written);

  f.clock.Advance(absl::Seconds(50));  // Age exactly the TTL: still present.
  STORAGE_REQUIRE_OK(f.reader->Lookup(request, groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);

  f.clock.Advance(absl::Microseconds(1));
  STORAGE_REQUIRE_OK(f.reader->Lookup(request, groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_EXPIRED);
  REQUIRE(response.columns(0).values().int64_values().values(0) == 0);  // Not returned.
  REQUIRE(response.columns(0).event_time_unix_micros(0) == 0);

  // A TTL change applies at once: a group's row schema is kept per definition, TTL included.
  v1::FeatureGroup longer = group;
  longer.mutable_spec()->mutable_ttl()->set_seconds(3600);
  const std::vector<const v1::FeatureGroup*> longer_groups = {&longer};
  STORAGE_REQUIRE_OK(f.reader->Lookup(request, longer_groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
}

TEST_CASE("One call reads several groups and entities, MISSING where there is nothing",
          "[online_reader]") {
  Fixture f;
  const v1::FeatureGroup customer = MakeGroup("customer_stats", "customer",
                                              {{"spend", v1::FEATURE_TYPE_DOUBLE},
                                               {"tier", v1::FEATURE_TYPE_STRING},
                                               {"embedding", v1::FEATURE_TYPE_FLOAT_VECTOR}});
  const v1::FeatureGroup merchant =
      MakeGroup("merchant_stats", "merchant",
                {{"fraud_rate", v1::FEATURE_TYPE_FLOAT}, {"active", v1::FEATURE_TYPE_BOOL}});
  const int64_t t = f.now();
  STORAGE_REQUIRE_OK(f.writer->Write(
      customer,
      MakeBatch(customer, {{"c1", t, {10.5, std::string("gold"), std::vector<float>{1, 2}}},
                           {"c2", t - 1, {TestValue(), std::string("silver"), TestValue()}}})));
  STORAGE_REQUIRE_OK(
      f.writer->Write(merchant, MakeBatch(merchant, {{"m1", t - 2, {0.25f, true}}})));

  const v1::LookupOnlineRequest request =
      LookupRequest({Ref("merchant_stats", "active"), Ref("customer_stats", "tier"),
                     Ref("customer_stats", "spend"), Ref("merchant_stats", "fraud_rate"),
                     Ref("customer_stats", "embedding")},
                    {{"customer", {"c1", "c2", "unknown"}}, {"merchant", {"m1", "m1", "m9"}}});
  const std::vector<const v1::FeatureGroup*> groups = {&customer, &merchant};
  v1::LookupOnlineResponse response;
  STORAGE_REQUIRE_OK(f.reader->Lookup(request, groups, &response));
  REQUIRE(response.row_count() == 3);
  REQUIRE(response.columns_size() == 5);

  const v1::OnlineFeatureColumn& active = response.columns(0);
  REQUIRE(active.feature().feature() == "active");
  REQUIRE(active.type() == v1::FEATURE_TYPE_BOOL);
  REQUIRE(active.schema_version() == 1);
  REQUIRE(std::vector<int>(active.statuses().begin(), active.statuses().end()) ==
          std::vector<int>{v1::VALUE_STATUS_PRESENT, v1::VALUE_STATUS_PRESENT,
                           v1::VALUE_STATUS_MISSING});
  REQUIRE(active.values().bool_values().values_size() == 3);
  REQUIRE(active.event_time_unix_micros(1) == t - 2);

  const v1::OnlineFeatureColumn& tier = response.columns(1);
  REQUIRE(ValueAt(tier.values(), 0) == TestValue(std::string("gold")));
  REQUIRE(ValueAt(tier.values(), 1) == TestValue(std::string("silver")));
  REQUIRE(tier.statuses(2) == v1::VALUE_STATUS_MISSING);

  const v1::OnlineFeatureColumn& spend = response.columns(2);
  REQUIRE(spend.statuses(0) == v1::VALUE_STATUS_PRESENT);
  REQUIRE(spend.values().double_values().values(0) == 10.5);
  REQUIRE(spend.statuses(1) == v1::VALUE_STATUS_MISSING);  // Ingested as null.
  REQUIRE(spend.event_time_unix_micros(1) == 0);

  REQUIRE(response.columns(3).values().float_values().values(1) == 0.25f);
  REQUIRE(ValueAt(response.columns(4).values(), 0) == TestValue(std::vector<float>{1, 2}));
  REQUIRE(response.columns(4).values().float_vector_values().values_size() == 3);
}

TEST_CASE("A feature added after a row was written reads as MISSING", "[online_reader]") {
  Fixture f;
  v1::FeatureGroup group = MakeGroup("g", "customer", {{"a", v1::FEATURE_TYPE_FLOAT}});
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", f.now(), {1.0f}}})));
  group.set_schema_version(2);
  v1::FeatureSpec* added = group.mutable_spec()->add_features();
  added->set_name("b");
  added->set_type(v1::FEATURE_TYPE_INT64);
  added->set_since_version(2);
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;
  STORAGE_REQUIRE_OK(f.reader->Lookup(LookupRequest({Ref("g", "a"), Ref("g", "b")}, {{"", {"c1"}}}),
                                      groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  REQUIRE(response.columns(1).statuses(0) == v1::VALUE_STATUS_MISSING);
  REQUIRE(response.columns(1).schema_version() == 2);
}

TEST_CASE("Each lookup reads under the definition it is given, however often each was read",
          "[online_reader]") {
  Fixture f;
  const v1::FeatureGroup first = MakeGroup("g", "customer", {{"a", v1::FEATURE_TYPE_FLOAT}});
  const v1::FeatureGroup other = MakeGroup("h", "customer", {{"z", v1::FEATURE_TYPE_INT64}});
  STORAGE_REQUIRE_OK(f.writer->Write(first, MakeBatch(first, {{"c1", f.now(), {1.0f}}})));
  STORAGE_REQUIRE_OK(f.writer->Write(other, MakeBatch(other, {{"c1", f.now(), {int64_t{9}}}})));
  v1::FeatureGroup second = first;
  second.set_schema_version(2);
  v1::FeatureSpec* added = second.mutable_spec()->add_features();
  added->set_name("b");
  added->set_type(v1::FEATURE_TYPE_INT64);
  added->set_since_version(2);
  // Groups interleaved in the request: each column still comes from its own group.
  const v1::LookupOnlineRequest request =
      LookupRequest({Ref("g", "a"), Ref("h", "z"), Ref("g", "b"), Ref("h", "z")}, {{"", {"c1"}}});
  v1::LookupOnlineResponse response;
  for (int round = 0; round < 3; ++round) {
    const std::vector<const v1::FeatureGroup*> old_groups = {&first, &other};
    const absl::Status unknown = f.reader->Lookup(request, old_groups, &response);
    REQUIRE(unknown.code() == absl::StatusCode::kNotFound);  // "b" is not in version 1.
    REQUIRE(absl::StrContains(unknown.message(), "g:b"));
    const std::vector<const v1::FeatureGroup*> new_groups = {&second, &other};
    STORAGE_REQUIRE_OK(f.reader->Lookup(request, new_groups, &response));
    REQUIRE(response.columns(0).values().float_values().values(0) == 1.0f);
    REQUIRE(response.columns(1).values().int64_values().values(0) == 9);
    REQUIRE(response.columns(2).schema_version() == 2);
    REQUIRE(response.columns(2).statuses(0) == v1::VALUE_STATUS_MISSING);
    REQUIRE(response.columns(3).values().int64_values().values(0) == 9);
  }
}

TEST_CASE("Lookups name what they cannot find", "[online_reader]") {
  Fixture f;
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"a", v1::FEATURE_TYPE_FLOAT}});
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;
  absl::Status status =
      f.reader->Lookup(LookupRequest({Ref("g", "nope")}, {{"", {"c1"}}}), groups, &response);
  STORAGE_REQUIRE_CODE(status, absl::StatusCode::kNotFound);
  REQUIRE(status.message().find("g:nope") != absl::string_view::npos);
  STORAGE_REQUIRE_CODE(
      f.reader->Lookup(LookupRequest({Ref("other", "a")}, {{"", {"c1"}}}), groups, &response),
      absl::StatusCode::kNotFound);
  STORAGE_REQUIRE_CODE(
      f.reader->Lookup(LookupRequest({Ref("g", "a")}, {{"merchant", {"m"}}}), groups, &response),
      absl::StatusCode::kInvalidArgument);
  STORAGE_REQUIRE_CODE(f.reader->Lookup(LookupRequest({Ref("g", "a")}, {{"customer", {"c1"}},
                                                                        {"merchant", {"m", "n"}}}),
                                        groups, &response),
                       absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::features
