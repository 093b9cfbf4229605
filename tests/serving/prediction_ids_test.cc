#include "libs/serving/prediction_ids.h"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/core/ids.h"

namespace fabrique::serving {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

TEST_CASE("prediction ids carry their millisecond and stay increasing within it") {
  core::FakeClock clock(absl::FromUnixMillis(1'733'300'000'123));
  PredictionIdGenerator generator(&clock, 7);
  std::vector<std::string> ids = generator.Next(100);
  const std::vector<std::string> more = generator.Next(3);
  ids.insert(ids.end(), more.begin(), more.end());
  REQUIRE(ids.size() == 103);
  CHECK(std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end());
  for (const std::string& id : ids) {
    REQUIRE(id.size() == core::kIdLength);
    CHECK(id.find_first_not_of(kAlphabet) == std::string::npos);
    const absl::StatusOr<absl::Time> made = core::IdTime(id);
    REQUIRE(made.ok());
    CHECK(*made == absl::FromUnixMillis(1'733'300'000'123));
  }
}

TEST_CASE("prediction ids of one millisecond count up by one") {
  core::FakeClock clock;
  PredictionIdGenerator generator(&clock, 11);
  const std::vector<std::string> ids = generator.Next(2);
  REQUIRE(ids.size() == 2);
  // Equal but for the last character, one more (unless it wrapped, which seed 11 does not).
  CHECK(ids[0].substr(0, 25) == ids[1].substr(0, 25));
  CHECK(std::string(kAlphabet).find(ids[1].back()) ==
        std::string(kAlphabet).find(ids[0].back()) + 1);
}

TEST_CASE("prediction ids stay increasing when the clock steps back, and restart randomly after") {
  core::FakeClock clock;
  PredictionIdGenerator generator(&clock, 3);
  const std::string first = generator.Next(1).at(0);
  clock.Advance(absl::Seconds(-5));
  const std::string stepped_back = generator.Next(1).at(0);
  CHECK(stepped_back > first);
  CHECK(*core::IdTime(stepped_back) == *core::IdTime(first));
  clock.Advance(absl::Seconds(10));
  const std::string later = generator.Next(1).at(0);
  CHECK(later > stepped_back);
  CHECK(*core::IdTime(later) == clock.Now());
}

TEST_CASE("no prediction ids for no rows") {
  PredictionIdGenerator generator;
  CHECK(generator.Next(0).empty());
  CHECK(generator.Next(-1).empty());
}

TEST_CASE("prediction ids from many threads are all different") {
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& ids : made) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 200; ++i) {
        for (std::string& id : NewPredictionIds(10)) ids.push_back(std::move(id));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& ids : made) {
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    unique.insert(ids.begin(), ids.end());
  }
  CHECK(unique.size() == 4 * 200 * 10);
}

TEST_CASE("two generators start from different random parts") {
  core::FakeClock clock;
  PredictionIdGenerator one(&clock), other(&clock);
  CHECK(one.Next(1).at(0) != other.Next(1).at(0));
}

}  // namespace
}  // namespace fabrique::serving
