// Hot swap under load: requests keep being answered, each by the version it was routed to, while
// plans move the primary back and forth, one of the versions failing to load.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/serving/model_set.h"
#include "tests/serving/model_set_fakes.h"

namespace fabrique::serving {
namespace {

using testing::Eventually;
using testing::FakeLoader;
using testing::HasState;
using testing::ModelPlan;
using testing::Plan;

// One client: resolves by the policy and scores, until told to stop; counts what happened.
struct Client {
  std::atomic<int64_t> answers{0};
  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> wrong_version{0};
  std::atomic<int64_t> by_version[4] = {};
  absl::Mutex mu;
  std::string first_failure ABSL_GUARDED_BY(mu);

  void Fail(const absl::Status& status) {
    failures.fetch_add(1);
    absl::MutexLock lock(&mu);
    if (first_failure.empty()) first_failure = status.ToString();
  }
  void Run(const ModelSet& set, const std::atomic<bool>& stop, int id) {
    for (int64_t i = 0; !stop.load(); ++i) {
      absl::StatusOr<Route> route = set.Resolve("churn", 0, "", absl::StrCat(id, ":", i));
      if (!route.ok()) {
        Fail(route.status());
        continue;
      }
      absl::StatusOr<int64_t> answered = testing::Score(*route->version, 2);
      if (!answered.ok()) {
        Fail(answered.status());
        continue;
      }
      answers.fetch_add(1);
      if (*answered != route->version->version()) wrong_version.fetch_add(1);
      if (*answered >= 1 && *answered <= 3) by_version[*answered].fetch_add(1);
    }
  }
};

TEST_CASE("no request fails while 20 plans swap the primary back and forth, one load failing") {
  FakeLoader loader;
  loader.Fail(3, absl::InvalidArgumentError("not a TorchScript module"));
  ModelSetOptions options;
  options.loader = &loader;
  options.fetch_module = testing::FetchPath;
  options.loader_threads = 2;
  std::unique_ptr<ModelSet> set = *ModelSet::Create(std::move(options));
  set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return set->Ready(); }));

  Client client;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id) threads.emplace_back([&, id] { client.Run(*set, stop, id); });

  const int64_t cycle[] = {2, 3, 1};  // 3 never loads: the previous primary keeps serving.
  for (int plan = 0; plan < 20; ++plan) {
    const int64_t version = cycle[plan % 3];
    const int64_t answered_before = client.answers.load();
    set->Apply(Plan(2 + plan, {ModelPlan("churn", version)}));
    const VersionState settled = version == 3 ? VersionState::kFailed : VersionState::kReady;
    REQUIRE(Eventually([&] { return HasState(*set, "churn", version, settled); }));
    // Let requests flow through each state before moving on.
    REQUIRE(Eventually([&] { return client.answers.load() > answered_before + 20; }));
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();

  absl::MutexLock lock(&client.mu);
  INFO("first failure: " << client.first_failure);
  CHECK(client.failures.load() == 0);
  CHECK(client.wrong_version.load() == 0);
  CHECK(client.by_version[1].load() > 0);
  CHECK(client.by_version[2].load() > 0);
  CHECK(client.by_version[3].load() == 0);
  CHECK(set->Ready());
}

}  // namespace
}  // namespace fabrique::serving
