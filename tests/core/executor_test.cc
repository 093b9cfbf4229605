#include "libs/core/executor.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

TEST_CASE("an executor runs every scheduled task, and drains its queue on destruction") {
  std::atomic<int> ran{0};
  {
    auto executor = *Executor::Create({"test", 2, 1000});
    CHECK(executor->threads() == 2);
    for (int i = 0; i < 500; ++i) REQUIRE(executor->Schedule([&ran] { ran.fetch_add(1); }).ok());
  }
  CHECK(ran.load() == 500);
}

TEST_CASE("a full queue is refused with RESOURCE_EXHAUSTED naming the pool") {
  auto executor = *Executor::Create({"lookup", 1, 2});
  absl::Notification started;
  absl::Notification release;
  REQUIRE(executor
              ->Schedule([&] {
                started.Notify();
                release.WaitForNotification();
              })
              .ok());
  started.WaitForNotification();  // The one worker is busy; the queue holds 2 more.
  REQUIRE(executor->Schedule([] {}).ok());
  REQUIRE(executor->Schedule([] {}).ok());
  const absl::Status full = executor->Schedule([] {});
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(full.message().find("lookup") != absl::string_view::npos);
  release.Notify();
}

TEST_CASE("bad executor options are INVALID_ARGUMENT; zero threads means one per core") {
  CHECK(Executor::Create({"x", -1, 1}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK((*Executor::Create({"x", 0, 1}))->threads() >= 1);
}

}  // namespace
}  // namespace fabrique::core
