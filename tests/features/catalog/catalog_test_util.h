#ifndef FABRIQUE_TESTS_FEATURES_CATALOG_CATALOG_TEST_UTIL_H_
#define FABRIQUE_TESTS_FEATURES_CATALOG_CATALOG_TEST_UTIL_H_

// Helpers shared by the catalog tests: status assertions that print the message, a temporary
// directory, an in-memory Store with a Catalog on a fake clock, and builders for definitions.

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/catalog.h"
#include "libs/kv/store.h"
#include "tests/util/test_util.h"

// Requires `expr` (a Status or StatusOr) to be OK, printing its message when it is not.
#define CATALOG_REQUIRE_OK(expr)                                                     \
  do {                                                                               \
    const ::absl::Status catalog_require_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(catalog_require_status_.ToString());                                        \
    REQUIRE(catalog_require_status_.ok());                                           \
  } while (0)

// Requires `expr` to fail with exactly `expected_code` and a message containing `expected_text`.
#define CATALOG_REQUIRE_ERROR(expr, expected_code, expected_text)                     \
  do {                                                                                \
    const ::absl::Status catalog_require_status_ = ::fabrique::core::ToStatus(expr);  \
    INFO(catalog_require_status_.ToString());                                         \
    REQUIRE(catalog_require_status_.code() == (expected_code));                       \
    REQUIRE(::absl::StrContains(catalog_require_status_.message(), (expected_text))); \
  } while (0)

namespace fabrique::features::testing {

// The shared temp dir of tests/util, under the name these tests use.
using TempDir = ::fabrique::testing::TempDir;

inline std::unique_ptr<kv::Store> OpenStore(const std::string& path, bool in_memory) {
  kv::StoreOptions options;
  options.path = path;
  options.in_memory = in_memory;
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  CATALOG_REQUIRE_OK(store);
  return *std::move(store);
}

inline Catalog::Options CatalogOptions(kv::Store* store, core::Clock* clock = nullptr) {
  Catalog::Options options;
  options.store = store;
  options.clock = clock;
  return options;
}

// An in-memory store, a fake clock and a catalog on them.
struct CatalogFixture {
  CatalogFixture() : store(OpenStore("/in-memory/kv", /*in_memory=*/true)) {
    absl::StatusOr<std::unique_ptr<Catalog>> created =
        Catalog::Create(CatalogOptions(store.get(), &clock));
    CATALOG_REQUIRE_OK(created);
    catalog = *std::move(created);
  }

  core::FakeClock clock;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Catalog> catalog;
};

inline v1::Entity MakeEntity(const std::string& name, const std::string& join_key) {
  v1::Entity entity;
  entity.set_name(name);
  entity.set_join_key(join_key);
  return entity;
}

inline v1::FeatureSpec MakeFeature(const std::string& name, v1::FeatureType type) {
  v1::FeatureSpec feature;
  feature.set_name(name);
  feature.set_type(type);
  return feature;
}

// A group of `entity` with the given features.
inline v1::FeatureGroupSpec MakeGroup(const std::string& name, const std::string& entity,
                                      std::initializer_list<v1::FeatureSpec> features) {
  v1::FeatureGroupSpec spec;
  spec.set_name(name);
  spec.set_entity(entity);
  for (const v1::FeatureSpec& feature : features) *spec.add_features() = feature;
  return spec;
}

inline v1::ApplyFeatureGroupRequest ApplyRequest(const v1::FeatureGroupSpec& spec,
                                                 int32_t expected_version = 0,
                                                 bool validate_only = false) {
  v1::ApplyFeatureGroupRequest request;
  *request.mutable_spec() = spec;
  request.set_expected_schema_version(expected_version);
  request.set_validate_only(validate_only);
  return request;
}

}  // namespace fabrique::features::testing

#endif  // FABRIQUE_TESTS_FEATURES_CATALOG_CATALOG_TEST_UTIL_H_
