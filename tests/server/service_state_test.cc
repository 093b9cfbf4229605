#include "libs/server/service_state.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

TEST_CASE("a new data dir is created and claimed; reopening it works") {
  fabrique::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/nested/features";
  {
    auto state = ServiceState::Open({dir, "features"});
    REQUIRE(state.ok());
    CHECK(std::filesystem::exists(dir + "/kv"));
    CHECK((*state)->data_dir() == dir);
  }
  CHECK(ServiceState::Open({dir, "features"}).ok());
}

TEST_CASE("another service's data dir is refused with FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  REQUIRE(ServiceState::Open({tmp.path(), "features"}).ok());
  auto other = ServiceState::Open({tmp.path(), "registry"});
  CHECK(other.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(other.status().message(), "fabrique-features"));
  CHECK(absl::StrContains(other.status().message(), "own --data_dir"));
}

TEST_CASE("a data dir held by a running service is UNAVAILABLE") {
  fabrique::testing::TempDir tmp;
  auto first = ServiceState::Open({tmp.path(), "features"});
  REQUIRE(first.ok());
  auto second = ServiceState::Open({tmp.path(), "features"});
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("a data dir that cannot be created is FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  const std::string file = tmp.path() + "/a-file";
  { std::ofstream(file) << "x"; }
  auto state = ServiceState::Open({file + "/below", "features"});
  CHECK(state.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a data dir written by a newer layout is refused with FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  {
    auto state = ServiceState::Open({tmp.path(), "features"});
    REQUIRE(state.ok());
    kv::Store& store = (*state)->store();
    auto meta = store.Family("meta");
    REQUIRE(meta.ok());
    REQUIRE(store.Put(*meta, "layout_version", "99").ok());
  }
  auto state = ServiceState::Open({tmp.path(), "features"});
  CHECK(state.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(state.status().message(), "layout version 99"));
}

TEST_CASE("missing options are INVALID_ARGUMENT") {
  CHECK(ServiceState::Open({"", "features"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ServiceState::Open({"/tmp/x", ""}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::server
