// The monitor's cached view of the registry: answers from the cache between lookups, read again
// after the TTL or for a version newer than it knows, and a registry that does not answer
// counted, not asked again at once, and never turned into "unknown".

#include <string>

#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "services/monitor/model_directory.h"

namespace fabrique::services {
namespace {

struct Registry {
  v1::Model model;
  bool down = false;
  int lookups = 0;
  absl::StatusOr<v1::Model> Lookup(const std::string& name) {
    ++lookups;
    if (down) return absl::UnavailableError("down");
    if (name != model.name()) return absl::NotFoundError(name);
    return model;
  }
};

struct Fixture {
  core::FakeClock clock{absl::FromUnixSeconds(1'700'000'000)};
  Registry registry;
  int failures = 0;
  ModelDirectory directory{MakeOptions()};

  ModelDirectoryOptions MakeOptions() {
    registry.model.set_name("churn");
    registry.model.set_owner_squad("risk");
    registry.model.set_task(v1::TASK_BINARY_CLASSIFICATION);
    registry.model.set_latest_version(2);
    ModelDirectoryOptions options;
    options.lookup = [this](const std::string& name) { return registry.Lookup(name); };
    options.ttl = absl::Seconds(30);
    options.on_unavailable = [this] { ++failures; };
    options.clock = &clock;
    return options;
  }
};

TEST_CASE("The directory answers from its cache until the TTL passes") {
  Fixture f;
  f.directory.Refresh("churn", 1);
  CHECK(f.directory.Known("churn", 2));
  CHECK_FALSE(f.directory.Known("churn", 3));
  CHECK(f.directory.TaskOf("churn") == v1::TASK_BINARY_CLASSIFICATION);
  CHECK(f.directory.Get("churn").owner_squad == "risk");
  f.directory.Refresh("churn", 2);
  CHECK(f.registry.lookups == 1);

  f.registry.model.set_owner_squad("fraud");
  f.clock.Advance(absl::Seconds(31));
  f.directory.Refresh("churn", 1);
  CHECK(f.registry.lookups == 2);
  CHECK(f.directory.Get("churn").owner_squad == "fraud");
}

TEST_CASE("A model the registry does not have is unknown; one it cannot be asked about is known") {
  Fixture f;
  f.directory.Refresh("ghost", 1);
  CHECK(f.directory.Get("ghost").state == ModelDirectory::State::kMissing);
  CHECK_FALSE(f.directory.Known("ghost", 1));
  CHECK(f.failures == 0);

  f.registry.down = true;
  f.directory.Refresh("other", 1);
  CHECK(f.failures == 1);
  CHECK(f.directory.Known("other", 1));
  CHECK(f.directory.TaskOf("other") == v1::TASK_UNSPECIFIED);
  // Not asked again within retry_after, asked again after it.
  f.directory.Refresh("other", 1);
  CHECK(f.registry.lookups == 2);
  f.clock.Advance(absl::Seconds(6));
  f.directory.Refresh("other", 1);
  CHECK(f.registry.lookups == 3);
}

TEST_CASE("Facts read before the registry went down stay in use") {
  Fixture f;
  f.directory.Refresh("churn", 1);
  f.registry.down = true;
  f.clock.Advance(absl::Seconds(31));
  f.directory.Refresh("churn", 1);
  CHECK(f.failures == 1);
  CHECK(f.directory.Get("churn").state == ModelDirectory::State::kFound);
  CHECK_FALSE(f.directory.Known("churn", 3));
}

}  // namespace
}  // namespace fabrique::services
