#include <atomic>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/core/ids.h"

namespace fabrique::core {
namespace {

TEST_CASE("the fake clock moves only when told") {
  FakeClock clock(absl::FromUnixSeconds(1000));
  CHECK(clock.Now() == absl::FromUnixSeconds(1000));
  clock.Advance(absl::Seconds(5));
  CHECK(clock.Now() == absl::FromUnixSeconds(1005));
  clock.Set(absl::FromUnixSeconds(10));
  CHECK(clock.Now() == absl::FromUnixSeconds(10));
}

TEST_CASE("the real clock is close to absl::Now") {
  CHECK(absl::AbsDuration(Clock::Real()->Now() - absl::Now()) < absl::Seconds(1));
}

TEST_CASE("a sleep on the fake clock ends when the clock reaches its deadline") {
  FakeClock clock(absl::FromUnixSeconds(1000));
  auto slept =
      std::async(std::launch::async, [&] { return clock.SleepUntil(absl::FromUnixSeconds(1005)); });
  REQUIRE(clock.AwaitSleeps(1, absl::Seconds(30)));
  clock.Advance(absl::Seconds(4));
  CHECK(slept.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  clock.Advance(absl::Seconds(1));
  REQUIRE(slept.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(slept.get());
  // A deadline already passed does not wait.
  CHECK(clock.SleepUntil(absl::FromUnixSeconds(1000)));
  CHECK(clock.AwaitSleeps(2, absl::ZeroDuration()));
}

TEST_CASE("a sleep ends early, saying so, when it is interrupted") {
  FakeClock clock;
  std::atomic<bool> stop{false};
  auto slept = std::async(std::launch::async, [&] {
    return clock.SleepUntil(clock.Now() + absl::Hours(1), [&] { return stop.load(); });
  });
  REQUIRE(clock.AwaitSleeps(1, absl::Seconds(30)));
  stop = true;
  REQUIRE(slept.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK_FALSE(slept.get());
  // On the real clock too, whether the stop comes first or during the wait.
  CHECK_FALSE(Clock::Real()->SleepUntil(absl::Now() + absl::Hours(1), [] { return true; }));
  std::atomic<int> asked{0};
  CHECK_FALSE(Clock::Real()->SleepUntil(absl::Now() + absl::Hours(1), [&] { return ++asked > 2; }));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(20);
  CHECK(Clock::Real()->SleepUntil(deadline, [] { return false; }));
  CHECK(absl::Now() >= deadline);
}

TEST_CASE("ids are 26 Crockford characters that encode their creation time") {
  FakeClock clock(absl::FromUnixMillis(1'732'456'789'123));
  IdGenerator ids(&clock, 42);
  const std::string id = ids.Next();
  CHECK(id.size() == kIdLength);
  CHECK(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
  const absl::StatusOr<absl::Time> time = IdTime(id);
  REQUIRE(time.ok());
  CHECK(*time == absl::FromUnixMillis(1'732'456'789'123));
}

TEST_CASE("ids sort by time as strings, also within one millisecond") {
  FakeClock clock;
  IdGenerator ids(&clock, 7);
  std::vector<std::string> made;
  for (int i = 0; i < 2000; ++i) {
    made.push_back(ids.Next());
    if (i % 100 == 99) clock.Advance(absl::Milliseconds(1));
  }
  for (size_t i = 1; i < made.size(); ++i) CHECK(made[i - 1] < made[i]);
}

TEST_CASE("ids stay increasing when the clock steps back") {
  FakeClock clock(absl::FromUnixSeconds(2000));
  IdGenerator ids(&clock, 9);
  const std::string before = ids.Next();
  clock.Advance(absl::Seconds(-30));
  CHECK(ids.Next() > before);
}

TEST_CASE("ids are unique across threads") {
  IdGenerator ids;
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&ids, &out] {
      for (int i = 0; i < 5000; ++i) out.push_back(ids.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : per_thread) all.insert(out.begin(), out.end());
  CHECK(all.size() == 20000);
}

TEST_CASE("IdTime rejects what is not an id") {
  CHECK(IdTime("short").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(IdTime("01JD3Z6Q8X4T9V2M7K5R1B0C3U").status().code() ==
        absl::StatusCode::kInvalidArgument);  // 'U' is not in the alphabet.
  CHECK(IdTime("81JD3Z6Q8X4T9V2M7K5R1B0C3H").status().code() ==
        absl::StatusCode::kInvalidArgument);  // Overflows 128 bits.
}

}  // namespace
}  // namespace fabrique::core
