#include "libs/monitoring/reference/reference_profiles.h"

#include <memory>
#include <optional>
#include <string>

#include "catch2/catch.hpp"
#include "libs/monitoring/reference/profile_check.h"
#include "libs/monitoring/reference/reference_store.h"
#include "tests/monitoring/reports/reports_test_util.h"
#include "tests/util/test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::Categories;
using testing::Numbers;
using testing::Profile;
using testing::Spread;

v1::ReferenceProfile FraudProfile(int64_t version = 3) {
  return Profile(
      "fraud", version,
      {{"amount", Numbers(Spread(0, 100, 200))}, {"country", Categories({"fr", "de", "fr"})}},
      {{"probability", Numbers(Spread(0, 1, 200))}});
}

struct Fixture {
  fabrique::testing::TempDir dir;
  std::unique_ptr<ReferenceStore> store;
  testing::FakeVersionRegistry registry;
  std::unique_ptr<ReferenceProfiles> profiles;

  Fixture() { Open(); }
  void Open() {
    profiles.reset();
    store.reset();
    absl::StatusOr<std::unique_ptr<ReferenceStore>> opened =
        ReferenceStore::Open({dir.Sub("reference")});
    REQUIRE(opened.ok());
    store = *std::move(opened);
    profiles = std::make_unique<ReferenceProfiles>(store.get(), &registry);
  }
};

TEST_CASE("A profile needs its version and a readable summary in every column") {
  CHECK(CheckProfile(FraudProfile()).ok());

  v1::ReferenceProfile no_version = FraudProfile();
  no_version.clear_model_version();
  CHECK(absl::IsInvalidArgument(CheckProfile(no_version)));
  CHECK(CheckProfile(no_version, /*needs_version=*/false).ok());

  v1::ReferenceProfile no_summary = FraudProfile();
  no_summary.mutable_features(1)->clear_categorical();
  const absl::Status missing = CheckProfile(no_summary);
  CHECK(absl::IsInvalidArgument(missing));
  CHECK_THAT(std::string(missing.message()), Catch::Contains("country"));

  v1::ReferenceProfile corrupt = FraudProfile();
  corrupt.mutable_features(0)->mutable_numeric()->set_quantile_sketch("not a sketch");
  CHECK(absl::IsInvalidArgument(CheckProfile(corrupt)));

  v1::ReferenceProfile unnamed = FraudProfile();
  unnamed.mutable_predictions(0)->clear_name();
  CHECK(absl::IsInvalidArgument(CheckProfile(unnamed)));
}

TEST_CASE("A put profile is kept across reopening, replacing the one before") {
  Fixture f;
  f.registry.AddVersion("fraud", 3, nullptr, {testing::TrainingMetric("auc", 0.9)});
  absl::StatusOr<v1::ReferenceProfile> put = f.profiles->Put(FraudProfile());
  REQUIRE(put.ok());
  // The registry's metrics become the training metrics of a profile that has none.
  REQUIRE(put->training_metrics_size() == 1);
  CHECK(put->training_metrics(0).name() == "auc");

  v1::ReferenceProfile second = FraudProfile();
  second.set_row_count(42);
  REQUIRE(f.profiles->Put(second).ok());
  f.Open();
  absl::StatusOr<v1::ReferenceProfile> got = f.profiles->Get("fraud", 3);
  REQUIRE(got.ok());
  CHECK(got->row_count() == 42);
  CHECK(got->features_size() == 2);
}

TEST_CASE("Putting a profile of a version the registry does not know is NOT_FOUND") {
  Fixture f;
  CHECK(absl::IsNotFound(f.profiles->Put(FraudProfile()).status()));
  v1::ReferenceProfile corrupt = FraudProfile();
  corrupt.mutable_features(0)->clear_numeric();
  CHECK(absl::IsInvalidArgument(f.profiles->Put(corrupt).status()));
}

TEST_CASE("While the registry is down an explicit profile is still kept") {
  Fixture f;
  f.registry.SetDown(true);
  REQUIRE(f.profiles->Put(FraudProfile()).ok());
  absl::StatusOr<v1::ReferenceProfile> got = f.profiles->Get("fraud", 3);
  REQUIRE(got.ok());
  CHECK(got->model_version().version() == 3);
}

TEST_CASE("A version's registered profile is read once from the registry and kept") {
  Fixture f;
  v1::ReferenceProfile registered = FraudProfile();
  registered.clear_model_version();  // The trainer registers it before the version exists.
  f.registry.AddVersion("fraud", 3, &registered, {testing::TrainingMetric("auc", 0.91)});

  absl::StatusOr<v1::ReferenceProfile> got = f.profiles->Get("fraud", 3);
  REQUIRE(got.ok());
  CHECK(got->model_version().model() == "fraud");
  CHECK(got->model_version().version() == 3);
  REQUIRE(got->training_metrics_size() == 1);
  CHECK(got->training_metrics(0).value() == Approx(0.91));

  const int calls = f.registry.calls();
  f.registry.SetDown(true);
  absl::StatusOr<v1::ReferenceProfile> again = f.profiles->Get("fraud", 3);
  REQUIRE(again.ok());
  CHECK(f.registry.calls() == calls);
}

TEST_CASE("No profile anywhere is NOT_FOUND; a registry that does not answer is UNAVAILABLE") {
  Fixture f;
  f.registry.AddVersion("fraud", 3);
  CHECK(absl::IsNotFound(f.profiles->Get("fraud", 3).status()));
  CHECK(absl::IsNotFound(f.profiles->Get("fraud", 4).status()));
  absl::StatusOr<std::optional<v1::ReferenceProfile>> none = f.profiles->Find("fraud", 3);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  v1::ReferenceProfile registered = FraudProfile(5);
  f.registry.AddVersion("fraud", 5, &registered);
  f.registry.SetDown(true);
  CHECK(absl::IsUnavailable(f.profiles->Get("fraud", 5).status()));
  CHECK(absl::IsUnavailable(f.profiles->Find("fraud", 5).status()));
  // The outage was not remembered as "no profile".
  f.registry.SetDown(false);
  CHECK(f.profiles->Get("fraud", 5).ok());
}

TEST_CASE("A registered artifact that is not a readable profile is FAILED_PRECONDITION") {
  Fixture f;
  f.registry.AddVersionWithArtifact("fraud", 3, "\xff\xff not a profile");
  CHECK(absl::IsFailedPrecondition(f.profiles->Get("fraud", 3).status()));

  v1::ReferenceProfile corrupt = FraudProfile();
  corrupt.mutable_features(0)->mutable_numeric()->set_quantile_sketch("garbage");
  f.registry.AddVersionWithArtifact("fraud", 4, corrupt.SerializeAsString());
  CHECK(absl::IsFailedPrecondition(f.profiles->Get("fraud", 4).status()));
}

}  // namespace
}  // namespace fabrique::monitoring
