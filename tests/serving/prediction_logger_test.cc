#include "libs/serving/prediction_logger.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "tests/serving/fake_monitor.h"

namespace fabrique::serving {
namespace {

using testing::CountingObserver;
using testing::FakeMonitor;
using testing::kWait;

v1::PredictionRecord Record(int i) {
  v1::PredictionRecord record;
  record.set_prediction_id(absl::StrCat("p", i));
  record.set_request_id("r1");
  record.set_row(i);
  return record;
}

std::vector<std::string> Ids(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i) ids.push_back(absl::StrCat("p", i));
  return ids;
}

// Polls the logger's counters until `done` holds or kWait of real time has passed.
bool AwaitCounters(const PredictionLogger& logger,
                   const std::function<bool(const PredictionLogCounters&)>& done) {
  const absl::Time give_up = absl::Now() + kWait;
  while (!done(logger.Counters())) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// A logger on a fake clock, with a fake monitor and a counting observer.
struct Harness {
  core::FakeClock clock;
  core::IdGenerator batch_ids{&clock, 7};
  FakeMonitor monitor;
  CountingObserver observer;

  PredictionLoggerOptions Options() {
    PredictionLoggerOptions options;
    options.monitor = &monitor;
    options.clock = &clock;
    options.observer = &observer;
    options.batch_ids = &batch_ids;
    options.flush_interval = absl::Hours(1);  // Tests of the interval set their own.
    return options;
  }
  std::unique_ptr<PredictionLogger> Make(const PredictionLoggerOptions& options) {
    auto logger = PredictionLogger::Create(options);
    REQUIRE(logger.ok());
    return *std::move(logger);
  }
};

TEST_CASE("Create refuses options out of range, naming the option") {
  const std::vector<std::pair<std::string, std::function<void(PredictionLoggerOptions&)>>> cases = {
      {"max_queue_records", [](auto& o) { o.max_queue_records = 0; }},
      {"batch_records", [](auto& o) { o.batch_records = -1; }},
      {"max_attempts", [](auto& o) { o.max_attempts = 0; }},
      {"flush_interval", [](auto& o) { o.flush_interval = absl::ZeroDuration(); }},
      {"send_timeout", [](auto& o) { o.send_timeout = -absl::Seconds(1); }},
      {"initial_backoff", [](auto& o) { o.initial_backoff = absl::Seconds(10); }},
      {"clock", [](auto& o) { o.clock = nullptr; }},
  };
  for (const auto& [name, spoil] : cases) {
    FakeMonitor monitor;
    PredictionLoggerOptions options;
    options.monitor = &monitor;
    spoil(options);
    auto logger = PredictionLogger::Create(options);
    INFO(name);
    REQUIRE_FALSE(logger.ok());
    CHECK(logger.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(logger.status().message()), Catch::Contains(name));
  }
}

TEST_CASE("a full batch is sent at once, without waiting for the flush interval") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 4;
  auto logger = h.Make(options);
  for (int i = 0; i < 10; ++i) logger->Log(Record(i));

  REQUIRE(h.monitor.AwaitRequests(2));
  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.sent == 8; }));
  CHECK(logger->Counters().queued == 2);
  auto requests = h.monitor.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].predictions_size() == 4);
  CHECK(requests[1].predictions_size() == 4);
  CHECK(requests[0].batch_id() != requests[1].batch_id());
  CHECK(h.monitor.SentIds() == Ids(0, 8));

  // The last two wait for the flush interval (an hour on this clock); Stop sends them now.
  logger->Stop(h.clock.Now() + absl::Seconds(1));
  CHECK(h.monitor.SentIds() == Ids(0, 10));
  const PredictionLogCounters counters = logger->Counters();
  CHECK(counters.logged == 10);
  CHECK(counters.sent == 10);
  CHECK(counters.batches == 3);
  CHECK(counters.queued == 0);
  CHECK(counters.dropped_queue_full + counters.dropped_send_failed + counters.dropped_stopped == 0);
  CHECK(h.observer.sent() == 10);
}

TEST_CASE("a partial batch is sent once its oldest record is flush_interval old") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 100;
  options.flush_interval = absl::Milliseconds(200);
  options.send_timeout = absl::Seconds(3);
  auto logger = h.Make(options);
  for (int i = 0; i < 3; ++i) logger->Log(Record(i));

  REQUIRE(h.clock.AwaitSleeps(1, kWait));  // The sender waits for more records...
  CHECK(h.monitor.requests().empty());
  h.clock.Advance(absl::Milliseconds(200));  // ...until the interval has passed.
  REQUIRE(h.monitor.AwaitRequests(1));
  CHECK(h.monitor.SentIds() == Ids(0, 3));
  CHECK(h.monitor.deadlines()[0] == h.clock.Now() + absl::Seconds(3));

  // The next record starts the next interval.
  logger->Log(Record(3));
  REQUIRE(h.clock.AwaitSleeps(2, kWait));
  CHECK(h.monitor.requests().size() == 1);
  h.clock.Advance(absl::Milliseconds(200));
  REQUIRE(h.monitor.AwaitRequests(2));
  CHECK(h.monitor.SentIds() == Ids(0, 4));
}

TEST_CASE("a slow monitor never blocks Log: past the queue's bound, records are dropped") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 2;
  options.max_queue_records = 8;
  auto logger = h.Make(options);
  h.monitor.Hold();
  logger->Log(Record(0));
  logger->Log(Record(1));
  REQUIRE(h.monitor.AwaitRequests(1));  // That batch's send now hangs.

  auto logging = std::async(std::launch::async, [&] {
    for (int i = 2; i < 15; ++i) logger->Log(Record(i));
  });
  REQUIRE(logging.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  PredictionLogCounters counters = logger->Counters();
  CHECK(counters.queued == 8);
  CHECK(counters.logged == 10);
  CHECK(counters.dropped_queue_full == 5);
  CHECK(h.observer.dropped().at("queue_full") == 5);

  h.monitor.Release();
  logger->Stop(h.clock.Now() + absl::Seconds(1));
  CHECK(h.monitor.SentIds() == Ids(0, 10));  // The first ten, in order; the rest were dropped.
  counters = logger->Counters();
  CHECK(counters.sent == 10);
  CHECK(counters.dropped_queue_full == 5);
}

TEST_CASE("a failed batch is retried with the same batch id, then dropped and counted") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 1;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Milliseconds(150);
  auto logger = h.Make(options);
  h.monitor.FailAlways(absl::UnavailableError("monitor is down"));
  logger->Log(Record(0));

  REQUIRE(h.monitor.AwaitRequests(1));
  REQUIRE(h.clock.AwaitSleeps(1, kWait));  // Backing off 100 ms...
  h.clock.Advance(absl::Milliseconds(100));
  REQUIRE(h.monitor.AwaitRequests(2));
  REQUIRE(h.clock.AwaitSleeps(2, kWait));  // ...then 150 ms (200 capped by max_backoff).
  h.clock.Advance(absl::Milliseconds(150));
  REQUIRE(h.monitor.AwaitRequests(3));
  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.dropped_send_failed == 1; }));

  auto requests = h.monitor.requests();
  REQUIRE(requests.size() == 3);
  CHECK_FALSE(requests[0].batch_id().empty());
  CHECK(requests[1].batch_id() == requests[0].batch_id());
  CHECK(requests[2].batch_id() == requests[0].batch_id());
  PredictionLogCounters counters = logger->Counters();
  CHECK(counters.send_errors == 3);
  CHECK(counters.sent == 0);
  CHECK_THAT(counters.last_error, Catch::Contains("monitor is down"));
  CHECK(h.observer.errors().size() == 3);
  CHECK(h.observer.dropped().at("send_failed") == 1);

  // The monitor is back: the next batch goes through, under a new batch id.
  h.monitor.Recover();
  logger->Log(Record(1));
  REQUIRE(h.monitor.AwaitRequests(4));
  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.sent == 1; }));
  CHECK(h.monitor.requests()[3].batch_id() != requests[0].batch_id());
  CHECK(logger->Counters().dropped_send_failed == 1);
}

TEST_CASE("a batch that fails once and then goes through is stored once") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 1;  // Sent as soon as logged: the one sleep below is the backoff.
  auto logger = h.Make(options);
  h.monitor.FailNext(absl::DeadlineExceededError("monitor did not answer in time"));
  logger->Log(Record(0));

  REQUIRE(h.monitor.AwaitRequests(1));
  REQUIRE(h.clock.AwaitSleeps(1, kWait));
  h.clock.Advance(options.initial_backoff);
  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.sent == 1; }));
  const PredictionLogCounters counters = logger->Counters();
  CHECK(counters.batches == 1);
  CHECK(counters.send_errors == 1);
  CHECK(counters.dropped_send_failed == 0);
  CHECK(h.observer.attempts() == std::vector<int>{2});
  CHECK(h.monitor.requests()[1].batch_id() == h.monitor.requests()[0].batch_id());
}

TEST_CASE("an error that retrying cannot fix drops the batch after one try") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 1;
  auto logger = h.Make(options);
  h.monitor.FailAlways(absl::PermissionDeniedError("inference may not call LogPredictions"));
  logger->Log(Record(0));

  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.dropped_send_failed == 1; }));
  CHECK(h.monitor.requests().size() == 1);
  CHECK(h.observer.errors() == std::vector<absl::StatusCode>{absl::StatusCode::kPermissionDenied});
  CHECK_THAT(logger->Counters().last_error, Catch::Contains("may not call LogPredictions"));
}

TEST_CASE("records the monitor rejects are counted apart, with its first reason") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 5;
  auto logger = h.Make(options);
  h.monitor.RejectNext(2, "unknown model 'churn'");
  for (int i = 0; i < 5; ++i) logger->Log(Record(i));

  REQUIRE(AwaitCounters(*logger, [](const auto& c) { return c.batches == 1; }));
  const PredictionLogCounters counters = logger->Counters();
  CHECK(counters.sent == 3);
  CHECK(counters.rejected == 2);
  CHECK(counters.dropped_send_failed == 0);
  CHECK_THAT(counters.last_error, Catch::Contains("rejected 2 of 5"));
  CHECK_THAT(counters.last_error, Catch::Contains("unknown model 'churn'"));
}

TEST_CASE("Stop flushes what is queued, then drops records logged after it") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 100;
  auto logger = h.Make(options);
  for (int i = 0; i < 5; ++i) logger->Log(Record(i));

  logger->Stop(h.clock.Now() + absl::Seconds(1));  // No wait for the hour-long flush interval.
  CHECK(h.monitor.SentIds() == Ids(0, 5));
  logger->Log(Record(5));
  logger->Stop(h.clock.Now() + absl::Seconds(1));  // Idempotent.
  const PredictionLogCounters counters = logger->Counters();
  CHECK(counters.sent == 5);
  CHECK(counters.dropped_stopped == 1);
  CHECK(h.monitor.requests().size() == 1);
}

TEST_CASE("Stop's deadline caps the sends and their retries; what is left is dropped") {
  Harness h;
  auto options = h.Options();
  options.batch_records = 100;
  options.max_attempts = 10;
  options.initial_backoff = absl::Milliseconds(100);
  auto logger = h.Make(options);
  h.monitor.FailAlways(absl::UnavailableError("monitor is down"));
  logger->Log(Record(0));
  REQUIRE(h.clock.AwaitSleeps(1, kWait));  // Waiting for the flush interval.

  const absl::Time stop_deadline = h.clock.Now() + absl::Milliseconds(150);
  auto stopping = std::async(std::launch::async, [&] { logger->Stop(stop_deadline); });
  REQUIRE(h.monitor.AwaitRequests(1));               // Stop sends the partial batch at once...
  CHECK(h.monitor.deadlines()[0] == stop_deadline);  // ...to answer by Stop's deadline.
  REQUIRE(h.clock.AwaitSleeps(2, kWait));
  h.clock.Advance(absl::Milliseconds(100));
  REQUIRE(h.monitor.AwaitRequests(2));
  REQUIRE(h.clock.AwaitSleeps(3, kWait));  // Backing off 200 ms: past Stop's deadline.
  h.clock.Advance(absl::Milliseconds(50));
  REQUIRE(stopping.wait_for(std::chrono::seconds(30)) == std::future_status::ready);

  const PredictionLogCounters counters = logger->Counters();
  CHECK(h.monitor.requests().size() == 2);
  CHECK(counters.dropped_stopped == 1);
  CHECK(counters.dropped_send_failed == 0);
  CHECK(counters.send_errors == 2);
  CHECK(h.observer.dropped().at("stopped") == 1);
}

TEST_CASE("Stop with a deadline already passed drops what is queued without sending it") {
  Harness h;
  auto logger = h.Make(h.Options());
  for (int i = 0; i < 3; ++i) logger->Log(Record(i));
  logger->Stop(h.clock.Now());
  CHECK(h.monitor.requests().empty());
  CHECK(logger->Counters().dropped_stopped == 3);
  CHECK(logger->Counters().queued == 0);
}

TEST_CASE("shadow records keep their link to the primary prediction") {
  Harness h;
  auto logger = h.Make(h.Options());
  v1::PredictionRecord primary;
  primary.set_prediction_id(NewPredictionId());
  primary.set_request_id("req-42");
  primary.set_row(3);
  primary.set_alias("production");
  primary.mutable_model_version()->set_model("churn");
  primary.mutable_model_version()->set_version(7);
  v1::PredictionRecord shadow = primary;
  shadow.set_prediction_id(NewPredictionId());
  shadow.set_shadow(true);
  shadow.set_alias("candidate");
  shadow.mutable_model_version()->set_version(8);
  shadow.set_primary_prediction_id(primary.prediction_id());
  logger->Log(primary);
  logger->Log(shadow);
  logger->Stop(h.clock.Now() + absl::Seconds(1));

  const auto requests = h.monitor.requests();
  REQUIRE(requests.size() == 1);
  REQUIRE(requests[0].predictions_size() == 2);
  const v1::PredictionRecord& sent_primary = requests[0].predictions(0);
  const v1::PredictionRecord& sent_shadow = requests[0].predictions(1);
  CHECK(sent_primary.prediction_id() == primary.prediction_id());
  CHECK_FALSE(sent_primary.shadow());
  CHECK(sent_primary.primary_prediction_id().empty());
  CHECK(sent_shadow.shadow());
  CHECK(sent_shadow.primary_prediction_id() == primary.prediction_id());
  CHECK(sent_shadow.request_id() == "req-42");
  CHECK(sent_shadow.row() == 3);
  CHECK(sent_shadow.model_version().version() == 8);
  CHECK(sent_shadow.alias() == "candidate");
}

TEST_CASE("without a monitor logging is off: records are counted as disabled, not dropped") {
  Harness h;
  auto options = h.Options();
  options.monitor = nullptr;
  auto logger = h.Make(options);
  CHECK_FALSE(logger->enabled());
  for (int i = 0; i < 3; ++i) logger->Log(Record(i));
  logger->Stop(h.clock.Now());
  const PredictionLogCounters counters = logger->Counters();
  CHECK(counters.disabled == 3);
  CHECK(counters.logged == 0);
  CHECK(counters.dropped_queue_full + counters.dropped_send_failed + counters.dropped_stopped == 0);
  CHECK(h.observer.dropped().empty());
}

TEST_CASE("many threads log at once on the real clock; every record is stored once") {
  FakeMonitor monitor;
  PredictionLoggerOptions options;
  options.monitor = &monitor;
  options.batch_records = 64;
  options.flush_interval = absl::Milliseconds(5);
  auto created = PredictionLogger::Create(options);
  REQUIRE(created.ok());
  std::unique_ptr<PredictionLogger> logger = *std::move(created);

  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kPerThread; ++i) logger->Log(Record(t * kPerThread + i));
    });
  }
  for (auto& thread : threads) thread.join();
  logger->Stop(absl::Now() + kWait);

  CHECK(logger->Counters().sent == kThreads * kPerThread);
  std::vector<std::string> sent = monitor.SentIds();
  const std::set<std::string> unique(sent.begin(), sent.end());
  CHECK(unique.size() == sent.size());
  CHECK(sent.size() == static_cast<size_t>(kThreads * kPerThread));
  for (const auto& request : monitor.requests()) CHECK(request.predictions_size() <= 64);
}

TEST_CASE("prediction ids are unique and sort by time") {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(NewPredictionId());
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  const absl::StatusOr<absl::Time> made = core::IdTime(ids.front());
  REQUIRE(made.ok());
  CHECK(absl::AbsDuration(*made - absl::Now()) < absl::Minutes(1));
}

}  // namespace
}  // namespace fabrique::serving
