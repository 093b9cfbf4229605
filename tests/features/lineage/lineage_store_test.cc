#include "libs/features/lineage/lineage_store.h"

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::features {
namespace {

v1::VersionedFeatureRef Feature(const std::string& group, const std::string& name, int version) {
  v1::VersionedFeatureRef ref;
  ref.mutable_ref()->set_group(group);
  ref.mutable_ref()->set_feature(name);
  ref.set_schema_version(version);
  ref.set_type(v1::FEATURE_TYPE_FLOAT);
  return ref;
}

v1::Dataset MakeDataset(const std::string& name, std::vector<v1::VersionedFeatureRef> features) {
  v1::Dataset dataset;
  dataset.set_name(name);
  dataset.set_row_count(10);
  for (auto& f : features) *dataset.add_features() = std::move(f);
  return dataset;
}

v1::ModelVersionRef Model(const std::string& name, int64_t version) {
  v1::ModelVersionRef ref;
  ref.set_model(name);
  ref.set_version(version);
  return ref;
}

struct Fixture {
  core::FakeClock clock;
  core::IdGenerator ids{&clock, 1};
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<LineageStore> lineage;

  explicit Fixture(const std::string& path = "") {
    kv::StoreOptions options;
    options.path = path.empty() ? "/lineage" : path;
    options.in_memory = path.empty();
    store = *kv::Store::Open(options);
    Reopen();
  }
  void Reopen() { lineage = *LineageStore::Create({store.get(), &clock, &ids}); }
  std::string Record(const std::string& name, std::vector<v1::VersionedFeatureRef> features) {
    clock.Advance(absl::Milliseconds(1));
    auto recorded = lineage->RecordDataset(MakeDataset(name, std::move(features)));
    REQUIRE(recorded.ok());
    return recorded->dataset_id();
  }
};

TEST_CASE("a recorded dataset gets an id and a time, and reads back") {
  Fixture f;
  auto recorded = f.lineage->RecordDataset(MakeDataset("churn-2026", {Feature("tx", "amount", 2)}));
  REQUIRE(recorded.ok());
  CHECK(recorded->dataset_id().size() == core::kIdLength);
  CHECK(recorded->create_time().seconds() == absl::ToUnixSeconds(f.clock.Now()));
  auto read = f.lineage->GetDataset(recorded->dataset_id());
  REQUIRE(read.ok());
  CHECK(read->name() == "churn-2026");
  CHECK(read->features(0).schema_version() == 2);
  CHECK(read->used_by_size() == 0);
}

TEST_CASE("a build retried with its request id keeps its dataset id and first time") {
  Fixture f;
  // The id is reserved for the key when the build starts: a retry started before the first
  // build finished gets it too.
  absl::StatusOr<std::string> id = f.lineage->DatasetIdFor("run-7", "spec-a");
  REQUIRE(id.ok());
  CHECK(*f.lineage->DatasetIdFor("run-7", "spec-a") == *id);
  v1::Dataset dataset = MakeDataset("fraud run-7", {Feature("tx", "amount", 1)});
  dataset.set_dataset_id(*id);
  REQUIRE(f.lineage->RecordDataset(dataset).ok());
  const auto first_time = f.lineage->GetDataset(*id)->create_time();
  f.clock.Advance(absl::Minutes(5));
  // The retry asks again, and gets the same id; recording it again changes no date.
  CHECK(*f.lineage->DatasetIdFor("run-7", "spec-a") == *id);
  REQUIRE(f.lineage->RecordDataset(dataset).ok());
  CHECK(f.lineage->GetDataset(*id)->create_time().seconds() == first_time.seconds());
  CHECK(f.lineage->ListDatasets({})->datasets_size() == 1);
  // The key reused for another spec is refused: its dataset is the first spec's.
  absl::StatusOr<std::string> reused = f.lineage->DatasetIdFor("run-7", "spec-b");
  CHECK(reused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(reused.status().message(), "different training set"));
  // Another key, or none, is another dataset.
  CHECK(*f.lineage->DatasetIdFor("run-8", "spec-a") != *id);
  CHECK(*f.lineage->DatasetIdFor("", "spec-a") != *id);
}

TEST_CASE("bad records and unknown ids are refused with the right code") {
  Fixture f;
  CHECK(f.lineage->RecordDataset(MakeDataset("empty", {})).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.lineage->RecordDataset(MakeDataset("no-group", {Feature("", "x", 1)})).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto missing = f.lineage->GetDataset("01NOPE");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "01NOPE"));
  CHECK(f.lineage->RecordUsage("01NOPE", Model("m", 1)).code() == absl::StatusCode::kNotFound);
  const std::string id = f.Record("d", {Feature("tx", "amount", 1)});
  CHECK(f.lineage->RecordUsage(id, Model("", 1)).code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.lineage->RecordUsage(id, Model("m", 0)).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("usage is idempotent and shows in used_by") {
  Fixture f;
  const std::string id = f.Record("d", {Feature("tx", "amount", 1)});
  REQUIRE(f.lineage->RecordUsage(id, Model("churn", 3)).ok());
  REQUIRE(f.lineage->RecordUsage(id, Model("churn", 3)).ok());
  REQUIRE(f.lineage->RecordUsage(id, Model("fraud", 1)).ok());
  auto read = f.lineage->GetDataset(id);
  REQUIRE(read.ok());
  REQUIRE(read->used_by_size() == 2);
  CHECK(read->used_by(0).model() == "churn");
  CHECK(read->used_by(0).version() == 3);
  CHECK(read->used_by(1).model() == "fraud");
}

TEST_CASE("datasets list newest first, page by page, optionally by group") {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(
        f.Record("d" + std::to_string(i), {Feature(i % 2 == 0 ? "tx" : "profile", "f", 1)}));
  }
  std::vector<std::string> listed;
  v1::ListDatasetsRequest request;
  request.set_page_size(3);
  int pages = 0;
  do {
    auto page = f.lineage->ListDatasets(request);
    REQUIRE(page.ok());
    for (const auto& d : page->datasets()) listed.push_back(d.dataset_id());
    request.set_page_token(page->next_page_token());
    ++pages;
  } while (!request.page_token().empty());
  CHECK(pages == 3);
  CHECK(listed == std::vector<std::string>(ids.rbegin(), ids.rend()));

  v1::ListDatasetsRequest by_group;
  by_group.set_group("profile");
  auto profile = f.lineage->ListDatasets(by_group);
  REQUIRE(profile.ok());
  REQUIRE(profile->datasets_size() == 3);
  CHECK(profile->datasets(0).dataset_id() == ids[5]);
  CHECK(profile->datasets(2).dataset_id() == ids[1]);
  CHECK(profile->next_page_token().empty());
}

TEST_CASE("group lineage answers which models depend on a group, through which datasets") {
  Fixture f;
  const std::string old_set = f.Record("old", {Feature("tx", "amount", 1), Feature("p", "age", 1)});
  const std::string new_set =
      f.Record("new", {Feature("tx", "amount", 2), Feature("tx", "count", 2)});
  const std::string other = f.Record("other", {Feature("p", "age", 1)});
  REQUIRE(f.lineage->RecordUsage(old_set, Model("churn", 1)).ok());
  REQUIRE(f.lineage->RecordUsage(new_set, Model("churn", 2)).ok());
  REQUIRE(f.lineage->RecordUsage(old_set, Model("churn", 2)).ok());
  REQUIRE(f.lineage->RecordUsage(other, Model("upsell", 1)).ok());

  auto lineage = f.lineage->GroupLineage("tx");
  REQUIRE(lineage.ok());
  REQUIRE(lineage->datasets_size() == 2);
  CHECK(lineage->datasets(0).dataset_id() == new_set);
  REQUIRE(lineage->models_size() == 2);
  CHECK(lineage->models(0).model_version().version() == 1);
  const v1::ModelDependency& churn2 = lineage->models(1);
  CHECK(churn2.model_version().model() == "churn");
  CHECK(churn2.dataset_ids_size() == 2);
  // amount@2, count@2 from the new set and amount@1 from the old one; "p" features excluded.
  CHECK(churn2.features_size() == 3);
  for (const auto& feature : churn2.features()) CHECK(feature.ref().group() == "tx");

  auto none = f.lineage->GroupLineage("unused");
  REQUIRE(none.ok());
  CHECK(none->datasets_size() == 0);
  CHECK(none->models_size() == 0);
}

TEST_CASE("lineage survives a reopen") {
  testing::TempDir tmp;
  std::string id;
  {
    Fixture f(tmp.path() + "/kv");
    id = f.Record("d", {Feature("tx", "amount", 1)});
    REQUIRE(f.lineage->RecordUsage(id, Model("churn", 1)).ok());
  }
  Fixture f(tmp.path() + "/kv");
  auto read = f.lineage->GetDataset(id);
  REQUIRE(read.ok());
  CHECK(read->used_by_size() == 1);
  CHECK(f.lineage->GroupLineage("tx")->models_size() == 1);
}

}  // namespace
}  // namespace fabrique::features
