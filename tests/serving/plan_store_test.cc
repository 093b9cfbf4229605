#include "libs/serving/plan_store.h"

#include <filesystem>
#include <fstream>

#include "catch2/catch.hpp"
#include "google/protobuf/unknown_field_set.h"
#include "tests/util/test_util.h"

namespace fabrique::serving {
namespace {

ServingPlan SamplePlan() {
  ServingPlan plan;
  plan.revision = 42;
  ServedModelPlan& churn = plan.models.emplace_back();
  churn.model = "churn";
  churn.owner_squad = "retention";
  churn.policy.set_model("churn");
  churn.policy.set_primary_alias("production");
  churn.policy.set_candidate_alias("candidate");
  churn.policy.set_canary_percent(12.5);
  churn.policy.set_shadow(true);
  churn.primary_version = 3;
  churn.candidate_version = 4;
  for (int64_t number : {3, 4}) {
    v1::ModelVersion& version = churn.versions[number];
    version.set_model("churn");
    version.set_version(number);
    v1::TensorSpec* input = version.mutable_signature()->add_inputs();
    input->set_name("tenure_days");
    v1::Metric* metric = version.add_metrics();
    metric->set_name("auc");
    metric->set_value(0.8 + 0.01 * static_cast<double>(number));
    (*version.mutable_params())["epochs"] = "12";
  }
  ServedModelPlan& fraud = plan.models.emplace_back();
  fraud.model = "fraud";
  fraud.owner_squad = "risk";
  fraud.policy.set_model("fraud");
  return plan;
}

std::unique_ptr<PlanStore> MakeStore(const std::string& dir) {
  auto store = PlanStore::Create({.dir = dir});
  REQUIRE(store.ok());
  return *std::move(store);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_CASE("PlanStore reads back the plan it saved, marked from the cache") {
  fabrique::testing::TempDir dir;
  std::unique_ptr<PlanStore> store = MakeStore(dir.path());
  const ServingPlan saved = SamplePlan();
  REQUIRE(store->Save(saved).ok());

  absl::StatusOr<std::optional<ServingPlan>> loaded = MakeStore(dir.path())->Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  const ServingPlan& plan = **loaded;
  CHECK(plan.from_cache);
  CHECK(plan.revision == 42);
  REQUIRE(plan.models.size() == 2);
  const ServedModelPlan& churn = plan.models[0];
  CHECK(churn.model == "churn");
  CHECK(churn.owner_squad == "retention");
  CHECK(churn.policy.SerializeAsString() == saved.models[0].policy.SerializeAsString());
  CHECK(churn.primary_version == 3);
  CHECK(churn.candidate_version == 4);
  REQUIRE(churn.versions.size() == 2);
  CHECK(churn.versions.at(4).signature().inputs(0).name() == "tenure_days");
  CHECK(churn.versions.at(4).metrics(0).value() == Approx(0.84));
  CHECK(churn.versions.at(4).params().at("epochs") == "12");
  CHECK(plan.models[1].model == "fraud");
  CHECK(plan.models[1].primary_version == 0);
  CHECK(plan.models[1].versions.empty());
}

TEST_CASE("PlanStore answers no plan before the first save") {
  fabrique::testing::TempDir dir;
  absl::StatusOr<std::optional<ServingPlan>> loaded = MakeStore(dir.path())->Load();
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());
}

TEST_CASE("PlanStore ignores a torn temporary file, and clears it when it starts") {
  fabrique::testing::TempDir dir;
  std::unique_ptr<PlanStore> store = MakeStore(dir.path());
  REQUIRE(store->Save(SamplePlan()).ok());
  const std::string torn = store->path() + ".tmp.999.0";
  const std::string full = PlanStore::Encode(SamplePlan());
  WriteFile(torn, full.substr(0, full.size() / 2));

  absl::StatusOr<std::optional<ServingPlan>> loaded = store->Load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->revision == 42);

  MakeStore(dir.path());
  CHECK_FALSE(std::filesystem::exists(torn));
  CHECK(std::filesystem::exists(store->path()));
}

TEST_CASE("PlanStore reports a damaged plan as DATA_LOSS naming the file") {
  fabrique::testing::TempDir dir;
  std::unique_ptr<PlanStore> store = MakeStore(dir.path());
  std::string bytes = PlanStore::Encode(SamplePlan());
  const std::string damage = GENERATE("a flipped byte", "cut short", "another format");
  INFO(damage);
  if (damage == "a flipped byte") bytes[20] = static_cast<char>(bytes[20] ^ 0x40);
  if (damage == "cut short") bytes.resize(bytes.size() - 10);
  if (damage == "another format") bytes = "{\"revision\": 42}";
  WriteFile(store->path(), bytes);
  absl::StatusOr<std::optional<ServingPlan>> loaded = store->Load();
  CHECK(loaded.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(loaded.status().message()), Catch::Contains(store->path()));
}

TEST_CASE("PlanStore keeps record fields it does not know (a newer registry's)") {
  v1::ModelVersion newer;
  newer.set_model("churn");
  newer.set_version(7);
  // Field 999 does not exist in this build's ModelVersion: as if written by a newer one.
  newer.GetReflection()->MutableUnknownFields(&newer)->AddVarint(999, 5);
  ServingPlan plan;
  plan.revision = 1;
  ServedModelPlan& model = plan.models.emplace_back();
  model.model = "churn";
  model.primary_version = 7;
  model.versions[7] = newer;
  absl::StatusOr<ServingPlan> decoded = PlanStore::Decode(PlanStore::Encode(plan));
  REQUIRE(decoded.ok());
  CHECK(decoded->models[0].versions.at(7).SerializeAsString() == newer.SerializeAsString());
}

TEST_CASE("PlanStore::Create refuses an empty directory name") {
  absl::Status status = PlanStore::Create({.dir = ""}).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("dir"));
}

}  // namespace
}  // namespace fabrique::serving
