// Data classification and personal data through the feature store's real adapter and a real
// local identity: the data steward classifies, reads of personal features need
// features.personal.read on top of the read permission, each read is counted per caller and
// logged in a hash-chained access log, lineage answers which models were trained on personal
// data, and the classification survives a re-apply and a restart.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "prometheus/registry.h"
#include "services/features/personal_data.h"
#include "tests/services/access_refusals.h"
#include "tests/services/feature_store_test_server.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

using feature_test::As;
using feature_test::Batch;
using feature_test::BuildAs;
using feature_test::Define;
using feature_test::Groups;
using feature_test::Ingest;
using feature_test::LookupOf;
using feature_test::Server;
using testing::CheckDenied;

const Groups kSteward = {"risk:data-steward"};
const Groups kScientist = {"risk:data-scientist"};
// A data scientist who is also the squad's steward: builds training sets of personal data.
const Groups kStewardScientist = {"risk:data-scientist", "risk:data-steward"};

grpc::Status Classify(Server& s, const Groups& groups, const std::string& feature,
                      v1::Sensitivity sensitivity, v1::FeatureGroup* out) {
  v1::ClassifyFeaturesRequest request;
  request.set_group("tx");
  request.set_feature(feature);
  request.set_sensitivity(sensitivity);
  request.set_reason("where a customer lives identifies them");
  return s.stub->ClassifyFeatures(As("sam", groups).get(), request, out);
}

// Defines tx (amount, country) with one row for c1, and classifies country as personal data.
void DefinePersonal(Server& s) {
  Define(s);
  v1::IngestResponse ingested;
  REQUIRE(feature_test::Ingest(s, {Batch(s, {{"c1", 1, 5.f, "FR"}})}, &ingested).ok());
  v1::FeatureGroup group;
  const grpc::Status classified =
      Classify(s, kSteward, "country", v1::SENSITIVITY_PERSONAL_DATA, &group);
  INFO(classified.error_message());
  REQUIRE(classified.ok());
}

grpc::Status Lookup(Server& s, const std::string& user, const Groups& groups, const Groups& refs) {
  v1::LookupOnlineResponse response;
  return s.stub->LookupOnline(As(user, groups).get(), LookupOf(refs), &response);
}

grpc::Status History(Server& s, const std::string& user, const Groups& groups,
                     const std::vector<std::string>& features, int* rows = nullptr) {
  v1::ReadHistoryRequest request;
  request.set_group("tx");
  for (const std::string& feature : features) request.add_features(feature);
  request.add_entity_keys("c1");
  const auto context = As(user, groups);  // Lives as long as the stream.
  auto reader = s.stub->ReadHistory(context.get(), request);
  v1::ReadHistoryResponse chunk;
  int read = 0;
  while (reader->Read(&chunk)) read += chunk.rows().entity_keys_size();
  if (rows != nullptr) *rows = read;
  return reader->Finish();
}

v1::ListPersonalDataReadsResponse Reads(Server& s, const std::string& feature = "") {
  v1::ListPersonalDataReadsRequest request;
  request.set_group("tx");
  request.set_feature(feature);
  v1::ListPersonalDataReadsResponse response;
  const grpc::Status status =
      s.stub->ListPersonalDataReads(As("sam", kSteward).get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

// The personal-data read counter's series, by caller.
std::map<std::string, double> ReadCounts(prometheus::Registry& registry) {
  std::map<std::string, double> counts;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "fabrique_features_personal_data_reads_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "caller") counts[label.value] = metric.counter.value;
      }
    }
  }
  return counts;
}

TEST_CASE("classify: allowed to the squad's data steward, refused to a data scientist") {
  Server s;
  Define(s);
  v1::FeatureGroup group;
  CheckDenied(Classify(s, kScientist, "country", v1::SENSITIVITY_PERSONAL_DATA, &group),
              "features.classify", "risk");
  CheckDenied(Classify(s, {"fraud:data-steward"}, "country", v1::SENSITIVITY_PERSONAL_DATA, &group),
              "features.classify", "risk");
  const grpc::Status classified =
      Classify(s, kSteward, "country", v1::SENSITIVITY_PERSONAL_DATA, &group);
  INFO(classified.error_message());
  REQUIRE(classified.ok());
  CHECK(group.spec().features(1).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(group.updated_by().subject() == "sam");

  // Shown by GetFeatureGroup and, effective, by the catalog.
  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  REQUIRE(s.stub->GetFeatureGroup(As("sid", kScientist).get(), get, &group).ok());
  CHECK(group.spec().features(1).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(group.spec().features(1).sensitivity_reason() == "where a customer lives identifies them");
  v1::ListFeaturesResponse listed;
  REQUIRE(s.stub->ListFeatures(As("sid", kScientist).get(), {}, &listed).ok());
  REQUIRE(listed.entries_size() == 2);
  CHECK(listed.entries(0).ref().feature() == "amount");
  CHECK(listed.entries(0).sensitivity() == v1::SENSITIVITY_INTERNAL);
  CHECK(listed.entries(1).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);

  // An apply that would declassify it is refused, whoever sends it.
  v1::ApplyFeatureGroupRequest apply;
  *apply.mutable_spec() = group.spec();
  apply.mutable_spec()->mutable_features(1)->set_sensitivity(v1::SENSITIVITY_PUBLIC);
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status declassified =
      s.stub->ApplyFeatureGroup(As("dana", {"risk:data-engineer"}).get(), apply, &applied);
  CHECK(declassified.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(declassified.error_message(), "ClassifyFeatures"));
}

TEST_CASE("personal data: lookups, history and training sets need features.personal.read") {
  Server s;
  DefinePersonal(s);

  // Not personal: the read permission is enough.
  CHECK(Lookup(s, "sid", kScientist, {"tx:amount"}).ok());
  CHECK(History(s, "sid", kScientist, {"amount"}).ok());
  CHECK(BuildAs(s, As("sid", kScientist).get(), {"tx:amount"}).ok());

  // Personal: refused naming the feature, the permission and the squad.
  const grpc::Status lookup = Lookup(s, "sid", kScientist, {"tx:amount", "tx:country"});
  CheckDenied(lookup, "features.personal.read", "risk");
  CHECK(absl::StrContains(lookup.error_message(), "'tx:country'"));
  CHECK(absl::StrContains(lookup.error_message(), "sid"));
  int rows = -1;
  const grpc::Status history = History(s, "sid", kScientist, {}, &rows);  // Every feature.
  CheckDenied(history, "features.personal.read", "risk");
  CHECK(absl::StrContains(history.error_message(), "'tx:country'"));
  CHECK(rows == 0);
  const grpc::Status build = BuildAs(s, As("sid", kScientist).get(), {"tx:country"});
  CheckDenied(build, "features.personal.read", "risk");
  CHECK(absl::StrContains(build.error_message(), "'tx:country'"));
  // Another squad's steward holds the permission, but not where the data lives.
  CheckDenied(Lookup(s, "fay", {"fraud:data-steward", "risk:data-scientist"}, {"tx:country"}),
              "features.personal.read", "risk");

  // Allowed with it.
  const grpc::Status allowed = Lookup(s, "sam", kSteward, {"tx:amount", "tx:country"});
  INFO(allowed.error_message());
  CHECK(allowed.ok());
  CHECK(History(s, "sam", kSteward, {}, &rows).ok());
  CHECK(rows == 1);
  v1::Dataset dataset;
  const grpc::Status built =
      BuildAs(s, As("sal", kStewardScientist).get(), {"tx:amount", "tx:country"}, &dataset);
  INFO(built.error_message());
  CHECK(built.ok());
  CHECK_FALSE(dataset.dataset_id().empty());
}

TEST_CASE("personal data: each read is counted per caller and logged in a verifiable chain") {
  Server s;
  DefinePersonal(s);
  REQUIRE(Lookup(s, "sam", kSteward, {"tx:country", "tx:amount"}).ok());
  REQUIRE(Lookup(s, "sam", kSteward, {"tx:amount"}).ok());  // Not personal: not logged.
  REQUIRE(History(s, "sam", kSteward, {"country"}).ok());
  v1::Dataset dataset;
  REQUIRE(BuildAs(s, As("sal", kStewardScientist).get(), {"tx:country"}, &dataset).ok());
  REQUIRE_FALSE(Lookup(s, "sid", kScientist, {"tx:country"}).ok());  // Refused: not logged.

  CHECK(ReadCounts(s.host->metrics()) == std::map<std::string, double>{{"sam", 2}, {"sal", 1}});

  const v1::ListPersonalDataReadsResponse reads = Reads(s);
  REQUIRE(reads.reads_size() == 3);
  const v1::PersonalDataRead& build = reads.reads(0);
  CHECK(build.call() == "BuildTrainingSet");
  CHECK(build.caller().subject() == "sal");
  CHECK(build.dataset_id() == dataset.dataset_id());
  const v1::PersonalDataRead& history = reads.reads(1);
  CHECK(history.call() == "ReadHistory");
  CHECK(history.entity_count() == 1);
  const v1::PersonalDataRead& lookup = reads.reads(2);
  CHECK(lookup.call() == "LookupOnline");
  CHECK(lookup.caller().subject() == "sam");
  CHECK(lookup.group() == "tx");
  CHECK(std::vector<std::string>(lookup.features().begin(), lookup.features().end()) ==
        std::vector<std::string>{"country"});
  CHECK(lookup.entity_count() == 1);
  CHECK(lookup.time().seconds() == absl::ToUnixSeconds(s.clock.Now()));
  CHECK(history.prev_hash() == lookup.hash());
  CHECK(build.prev_hash() == history.hash());
  CHECK(Reads(s, "country").reads_size() == 3);
  CHECK(Reads(s, "amount").reads_size() == 0);

  // Who read it is the squad's auditors' to ask; the chain's proof the platform's.
  v1::ListPersonalDataReadsRequest request;
  request.set_group("tx");
  v1::ListPersonalDataReadsResponse listed;
  CheckDenied(s.stub->ListPersonalDataReads(As("sid", kScientist).get(), request, &listed),
              "audit.read", "risk");
  v1::VerifyPersonalDataReadsResponse verified;
  REQUIRE(s.stub->VerifyPersonalDataReads(As("ops", {"risk:sre"}).get(), {}, &verified).ok());
  CHECK(verified.valid());
  CHECK(verified.entries_checked() == 3);
  CHECK(verified.head_hash() == build.hash());
}

TEST_CASE("personal data: lineage names the datasets and models trained on it") {
  Server s;
  DefinePersonal(s);
  v1::Dataset personal;
  REQUIRE(
      BuildAs(s, As("sal", kStewardScientist).get(), {"tx:amount", "tx:country"}, &personal).ok());
  s.clock.Advance(absl::Seconds(1));
  v1::Dataset plain;
  REQUIRE(BuildAs(s, As("sid", kScientist).get(), {"tx:amount"}, &plain).ok());
  for (const auto& [dataset, model] :
       {std::pair{personal.dataset_id(), "churn"}, std::pair{plain.dataset_id(), "spend"}}) {
    v1::RecordDatasetUsageRequest usage;
    usage.set_dataset_id(dataset);
    usage.mutable_model_version()->set_model(model);
    usage.mutable_model_version()->set_version(3);
    v1::RecordDatasetUsageResponse recorded;
    // The trainer records usage under its own certificate; in process, the squad's admin does.
    REQUIRE(s.stub->RecordDatasetUsage(As("ada", {"risk:platform-admin"}).get(), usage, &recorded)
                .ok());
  }

  v1::GetPersonalDataLineageRequest request;
  request.set_owner_squad("risk");
  v1::PersonalDataLineage lineage;
  const grpc::Status status =
      s.stub->GetPersonalDataLineage(As("sam", kSteward).get(), request, &lineage);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(lineage.datasets_size() == 1);
  CHECK(lineage.datasets(0).dataset().dataset_id() == personal.dataset_id());
  REQUIRE(lineage.datasets(0).personal_features_size() == 1);
  CHECK(lineage.datasets(0).personal_features(0).feature() == "country");
  REQUIRE(lineage.models_size() == 1);
  CHECK(lineage.models(0).model_version().model() == "churn");
  CHECK(lineage.models(0).model_version().version() == 3);
  REQUIRE(lineage.models(0).features_size() == 1);
  CHECK(lineage.models(0).features(0).ref().feature() == "country");

  // One group of the squad; another squad's group is not asked through this one.
  request.set_group("tx");
  REQUIRE(s.stub->GetPersonalDataLineage(As("sam", kSteward).get(), request, &lineage).ok());
  CHECK(lineage.models_size() == 1);
  request.set_owner_squad("fraud");
  CHECK(s.stub->GetPersonalDataLineage(As("fay", {"fraud:data-steward"}).get(), request, &lineage)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  request.set_owner_squad("risk");
  CheckDenied(
      s.stub->GetPersonalDataLineage(As("fay", {"fraud:data-steward"}).get(), request, &lineage),
      "audit.read", "risk");
}

TEST_CASE("personal data: the classification and the access log survive a re-apply and a restart") {
  ::fabrique::testing::TempDir tmp;
  {
    Server s(tmp.Sub("kv"));
    DefinePersonal(s);
    REQUIRE(Lookup(s, "sam", kSteward, {"tx:country"}).ok());
    // The engineer re-applies the group from a spec file that says nothing of sensitivity,
    // with a new description.
    v1::GetFeatureGroupRequest get;
    get.set_name("tx");
    v1::FeatureGroup group;
    REQUIRE(s.stub->GetFeatureGroup(As("dana", {"risk:data-engineer"}).get(), get, &group).ok());
    v1::ApplyFeatureGroupRequest apply;
    *apply.mutable_spec() = group.spec();
    for (v1::FeatureSpec& feature : *apply.mutable_spec()->mutable_features()) {
      feature.clear_sensitivity();
      feature.clear_sensitivity_reason();
    }
    apply.mutable_spec()->set_description("card transactions");
    v1::ApplyFeatureGroupResponse applied;
    const grpc::Status reapplied =
        s.stub->ApplyFeatureGroup(As("dana", {"risk:data-engineer"}).get(), apply, &applied);
    INFO(reapplied.error_message());
    REQUIRE(reapplied.ok());
    CHECK(applied.group().spec().features(1).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  }
  Server s(tmp.Sub("kv"));
  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  v1::FeatureGroup group;
  REQUIRE(s.stub->GetFeatureGroup(As("sid", kScientist).get(), get, &group).ok());
  CHECK(group.spec().features(1).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(group.spec().description() == "card transactions");  // The re-apply did happen.
  CheckDenied(Lookup(s, "sid", kScientist, {"tx:country"}), "features.personal.read", "risk");
  REQUIRE(Lookup(s, "sam", kSteward, {"tx:country"}).ok());
  const v1::ListPersonalDataReadsResponse reads = Reads(s);
  REQUIRE(reads.reads_size() == 2);
  CHECK(reads.reads(0).sequence() == 2);
  CHECK(reads.reads(0).prev_hash() == reads.reads(1).hash());
}

TEST_CASE("personal data: the counter names the delegating service, and its series are bounded") {
  kv::StoreOptions options;
  options.path = "/reads";
  options.in_memory = true;
  auto store = *kv::Store::Open(options);
  auto log = *features::AccessLog::Create({store.get()});
  prometheus::Registry registry;
  PersonalDataReads reads(nullptr, log.get(), registry, /*max_callers=*/2);
  const auto caller = [](const std::string& subject, const std::string& service) {
    server::Caller who;
    who.principal.set_subject(subject);
    who.principal.set_service(service);
    return who;
  };
  const std::vector<PersonalDataReads::Read> read = {{"tx", {"country"}}};
  REQUIRE(reads.Record(caller("ann", ""), "LookupOnline", read, 1, "").ok());
  REQUIRE(reads.Record(caller("bob", "trainer"), "BuildTrainingSet", read, 0, "d1").ok());
  REQUIRE(reads.Record(caller("cat", ""), "LookupOnline", read, 1, "").ok());
  REQUIRE(reads.Record(caller("dan", ""), "LookupOnline", read, 1, "").ok());
  REQUIRE(reads.Record(caller("ann", ""), "LookupOnline", read, 1, "").ok());
  CHECK(ReadCounts(registry) ==
        std::map<std::string, double>{{"ann", 2}, {"bob via trainer", 1}, {"_other", 2}});
  REQUIRE(log->Flush().ok());
  v1::ListPersonalDataReadsRequest request;
  request.set_group("tx");
  auto listed = log->List(request);
  REQUIRE(listed.ok());
  REQUIRE(listed->reads_size() == 5);  // The log names every caller.
  CHECK(listed->reads(1).caller().subject() == "dan");
  CHECK(listed->reads(3).caller().service() == "trainer");
}

}  // namespace
}  // namespace fabrique::services
