#ifndef FABRIQUE_TESTS_KV_KV_TEST_UTIL_H_
#define FABRIQUE_TESTS_KV_KV_TEST_UTIL_H_

// Helpers shared by the kv tests: status assertions that print the message, a temporary directory
// that removes itself, and a one-line in-memory Store.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "catch2/catch.hpp"
#include "libs/core/status_macros.h"
#include "libs/kv/store.h"
#include "tests/util/test_util.h"

// Requires `expr` (a Status or StatusOr) to be OK, printing its message when it is not.
#define KV_REQUIRE_OK(expr)                                                     \
  do {                                                                          \
    const ::absl::Status kv_require_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(kv_require_status_.ToString());                                        \
    REQUIRE(kv_require_status_.ok());                                           \
  } while (0)

// Requires `expr` to fail with exactly `expected_code` (an absl::StatusCode).
#define KV_REQUIRE_CODE(expr, expected_code)                                    \
  do {                                                                          \
    const ::absl::Status kv_require_status_ = ::fabrique::core::ToStatus(expr); \
    INFO(kv_require_status_.ToString());                                        \
    REQUIRE(kv_require_status_.code() == (expected_code));                      \
  } while (0)

namespace fabrique::kv::testing {

// The shared temp dir of tests/util, under the name these tests use.
using TempDir = ::fabrique::testing::TempDir;

// Opens a Store that lives in memory only, with the given families.
inline std::unique_ptr<Store> OpenInMemory(std::vector<std::string> families = {}) {
  StoreOptions options;
  options.path = "/in-memory/kv";
  options.in_memory = true;
  options.column_families = std::move(families);
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(std::move(options));
  KV_REQUIRE_OK(store);
  return std::move(store).value();
}

// The family `name` of `store`, which must exist.
inline ColumnFamily RequireFamily(const Store& store, const std::string& name) {
  absl::StatusOr<ColumnFamily> family = store.Family(name);
  KV_REQUIRE_OK(family);
  return *family;
}

}  // namespace fabrique::kv::testing

#endif  // FABRIQUE_TESTS_KV_KV_TEST_UTIL_H_
