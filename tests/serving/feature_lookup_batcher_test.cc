#include "libs/serving/feature_lookup_batcher.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/clock.h"
#include "tests/serving/fake_feature_port.h"

namespace fabrique::serving {
namespace {

using testing::FakeFeaturePort;
using testing::kLookupWait;

using Keys = std::vector<std::pair<std::string, std::vector<std::string>>>;

// A lookup of `features` ("group:feature") for rows made of `keys` (entity name, keys).
v1::LookupOnlineRequest Request(const std::vector<std::string>& features, const Keys& keys) {
  v1::LookupOnlineRequest request;
  for (const std::string& text : features) {
    std::vector<std::string> parts = absl::StrSplit(text, ':');
    v1::FeatureRef* ref = request.add_features();
    ref->set_group(parts[0]);
    ref->set_feature(parts[1]);
  }
  for (const auto& [entity, values] : keys) {
    v1::EntityKeys* column = request.add_entity_keys();
    column->set_entity(entity);
    for (const std::string& key : values) column->add_keys(key);
  }
  return request;
}

// `count` customer keys named prefix0, prefix1, ...
Keys Customers(const std::string& prefix, int count) {
  Keys keys = {{"customer", {}}};
  for (int i = 0; i < count; ++i) keys[0].second.push_back(absl::StrCat(prefix, i));
  return keys;
}

// Collects the answers of requests by name, and lets a test wait for them.
class Answers {
 public:
  LookupDone For(const std::string& name) {
    return [this, name](absl::StatusOr<LookupAnswer> answer) {
      absl::MutexLock lock(&mu_);
      if (answer.ok()) {
        REQUIRE(*answer != nullptr);
        answers_.emplace(name, **answer);
      } else {
        answers_.emplace(name, answer.status());
      }
    };
  }
  // Waits, at most kLookupWait of real time, for `count` answers.
  bool Await(size_t count) {
    absl::MutexLock lock(&mu_);
    const auto arrived = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answers_.size() >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), kLookupWait);
  }
  absl::StatusOr<v1::LookupOnlineResponse> Get(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = answers_.find(name);
    if (it == answers_.end()) return absl::NotFoundError(absl::StrCat("no answer for ", name));
    return it->second;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return answers_.size();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::StatusOr<v1::LookupOnlineResponse>> answers_ ABSL_GUARDED_BY(mu_);
};

// Polls `done` until it holds or kLookupWait of real time has passed.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + kLookupWait;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// The keys an answer holds for its first feature, recovered from the fake's "g:f/key" values.
std::vector<std::string> KeysOf(const v1::LookupOnlineResponse& response) {
  std::vector<std::string> keys;
  for (const std::string& value : response.columns(0).values().string_values().values()) {
    keys.push_back(std::vector<std::string>(absl::StrSplit(value, '/'))[1]);
  }
  return keys;
}

struct Harness {
  core::FakeClock clock;
  FakeFeaturePort port;
  Answers answers;
  absl::Time later = clock.Now() + absl::Seconds(10);

  FeatureLookupBatcherOptions Options() {
    FeatureLookupBatcherOptions options;
    options.port = &port;
    options.clock = &clock;
    options.threads = 2;
    return options;
  }
  std::unique_ptr<FeatureLookupBatcher> Make(const FeatureLookupBatcherOptions& options) {
    auto batcher = FeatureLookupBatcher::Create(options);
    REQUIRE(batcher.ok());
    return *std::move(batcher);
  }
};

TEST_CASE("Create refuses options out of range, naming the option") {
  Harness h;
  const std::vector<std::pair<std::string, std::function<void(FeatureLookupBatcherOptions&)>>>
      cases = {{"port", [](auto& o) { o.port = nullptr; }},
               {"clock", [](auto& o) { o.clock = nullptr; }},
               {"max_in_flight", [](auto& o) { o.max_in_flight = 0; }},
               {"max_rows", [](auto& o) { o.max_rows = -1; }},
               {"threads", [](auto& o) { o.threads = 0; }},
               {"max_waiting_requests", [](auto& o) { o.max_waiting_requests = 0; }}};
  for (const auto& [name, spoil] : cases) {
    FeatureLookupBatcherOptions options = h.Options();
    spoil(options);
    auto batcher = FeatureLookupBatcher::Create(options);
    CHECK(batcher.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(batcher.status().message()), Catch::Contains(name));
  }
}

TEST_CASE("A request at low load is looked up at once, alone") {
  Harness h;
  auto batcher = h.Make(h.Options());
  batcher->Lookup(Request({"customers:age"}, Customers("c", 3)), h.later, h.answers.For("a"));
  REQUIRE(h.answers.Await(1));
  auto answer = h.answers.Get("a");
  REQUIRE(answer.ok());
  CHECK(KeysOf(*answer) == std::vector<std::string>{"c0", "c1", "c2"});
  REQUIRE(h.port.calls().size() == 1);
  CHECK(h.port.deadlines()[0] == h.later);
}

TEST_CASE("A request the caller holds is looked up as it is and let go once answered") {
  Harness h;
  auto batcher = h.Make(h.Options());
  auto held = std::make_shared<const v1::LookupOnlineRequest>(
      Request({"customers:age"}, Customers("c", 2)));
  batcher->Lookup(held, h.later, h.answers.For("a"));
  REQUIRE(h.answers.Await(1));
  auto answer = h.answers.Get("a");
  REQUIRE(answer.ok());
  CHECK(KeysOf(*answer) == std::vector<std::string>{"c0", "c1"});
  REQUIRE(h.port.calls().size() == 1);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(h.port.calls()[0], *held));
  CHECK(Eventually([&] { return held.use_count() == 1; }));
}

TEST_CASE("Requests arriving while a lookup is in flight go together in the next one") {
  Harness h;
  auto batcher = h.Make(h.Options());
  h.port.Hold();
  batcher->Lookup(Request({"customers:age", "customers:city"}, Customers("first", 1)), h.later,
                  h.answers.For("first"));
  REQUIRE(h.port.AwaitCalls(1));
  for (int r = 0; r < 7; ++r) {
    batcher->Lookup(
        Request({"customers:age", "customers:city"}, Customers(absl::StrCat("r", r), r + 1)),
        h.later, h.answers.For(absl::StrCat("r", r)));
  }
  CHECK(batcher->waiting_requests() == 7);
  h.port.Release();
  REQUIRE(h.answers.Await(8));

  const std::vector<v1::LookupOnlineRequest> calls = h.port.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].entity_keys(0).keys_size() == 1 + 2 + 3 + 4 + 5 + 6 + 7);
  CHECK(calls[1].entity_keys(0).keys(0) == "r00");
  for (int r = 0; r < 7; ++r) {
    auto answer = h.answers.Get(absl::StrCat("r", r));
    REQUIRE(answer.ok());
    CHECK(answer->row_count() == r + 1);
    REQUIRE(answer->columns_size() == 2);
    CHECK(KeysOf(*answer) == Customers(absl::StrCat("r", r), r + 1)[0].second);
    CHECK(answer->columns(1).values().string_values().values(0) ==
          absl::StrCat("customers:city/r", r, "0"));
    CHECK(answer->columns(1).statuses_size() == r + 1);
  }
  const FeatureLookupCounters counters = batcher->Counters();
  CHECK(counters.lookups == 2);
  CHECK(counters.requests == 8);
  CHECK(batcher->waiting_requests() == 0);
}

TEST_CASE("Different feature lists or entity names are never merged") {
  Harness h;
  FeatureLookupBatcherOptions options = h.Options();
  options.threads = 4;
  auto batcher = h.Make(options);
  h.port.Hold();
  // Each starts at once: no lookup of its own feature list is in flight.
  batcher->Lookup(Request({"g:a"}, Customers("a", 1)), h.later, h.answers.For("a1"));
  batcher->Lookup(Request({"g:b"}, Customers("b", 1)), h.later, h.answers.For("b1"));
  batcher->Lookup(Request({"g:b", "g:a"}, Customers("ba", 1)), h.later, h.answers.For("ba1"));
  batcher->Lookup(Request({"g:a"}, {{"merchant", {"m0"}}}), h.later, h.answers.For("m1"));
  REQUIRE(h.port.AwaitCalls(4));
  // These wait, each behind its own list's lookup.
  batcher->Lookup(Request({"g:a"}, Customers("a2_", 1)), h.later, h.answers.For("a2"));
  batcher->Lookup(Request({"g:b"}, Customers("b2_", 1)), h.later, h.answers.For("b2"));
  batcher->Lookup(Request({"g:a"}, {{"merchant", {"m1"}}}), h.later, h.answers.For("m2"));
  CHECK(batcher->waiting_requests() == 3);
  h.port.Release();
  REQUIRE(h.answers.Await(7));

  const std::vector<v1::LookupOnlineRequest> calls = h.port.calls();
  REQUIRE(calls.size() == 7);
  for (const v1::LookupOnlineRequest& call : calls) CHECK(call.entity_keys(0).keys_size() == 1);
  for (const char* name : {"a1", "b1", "ba1", "m1", "a2", "b2", "m2"}) {
    CHECK(h.answers.Get(name).ok());
  }
  CHECK(KeysOf(*h.answers.Get("m2")) == std::vector<std::string>{"m1"});
}

TEST_CASE("A merged lookup holds at most max_rows rows; a larger request goes alone") {
  Harness h;
  FeatureLookupBatcherOptions options = h.Options();
  options.max_rows = 10;
  auto batcher = h.Make(options);
  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  REQUIRE(h.port.AwaitCalls(1));
  batcher->Lookup(Request({"g:a"}, Customers("p", 4)), h.later, h.answers.For("p"));
  batcher->Lookup(Request({"g:a"}, Customers("q", 4)), h.later, h.answers.For("q"));
  batcher->Lookup(Request({"g:a"}, Customers("r", 4)), h.later, h.answers.For("r"));
  batcher->Lookup(Request({"g:a"}, Customers("big", 12)), h.later, h.answers.For("big"));
  h.port.Release();
  REQUIRE(h.answers.Await(5));
  const std::vector<v1::LookupOnlineRequest> calls = h.port.calls();
  REQUIRE(calls.size() == 4);
  CHECK(calls[1].entity_keys(0).keys_size() == 8);
  CHECK(calls[2].entity_keys(0).keys_size() == 4);
  CHECK(calls[3].entity_keys(0).keys_size() == 12);
  CHECK(KeysOf(*h.answers.Get("r")) == Customers("r", 4)[0].second);
  CHECK(h.answers.Get("big")->row_count() == 12);
}

TEST_CASE("Up to max_in_flight lookups of one feature list run at once") {
  Harness h;
  FeatureLookupBatcherOptions options = h.Options();
  options.max_in_flight = 2;
  auto batcher = h.Make(options);
  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  batcher->Lookup(Request({"g:a"}, Customers("y", 1)), h.later, h.answers.For("y"));
  REQUIRE(h.port.AwaitCalls(2));
  batcher->Lookup(Request({"g:a"}, Customers("z", 1)), h.later, h.answers.For("z"));
  CHECK(batcher->waiting_requests() == 1);
  h.port.Release();
  REQUIRE(h.answers.Await(3));
  CHECK(h.port.calls().size() == 3);
}

TEST_CASE(
    "A waiter whose deadline passes gets DEADLINE_EXCEEDED at once; a merged lookup "
    "carries the earliest deadline") {
  Harness h;
  auto batcher = h.Make(h.Options());
  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  REQUIRE(h.port.AwaitCalls(1));
  const absl::Time start = h.clock.Now();
  batcher->Lookup(Request({"g:a"}, Customers("hurried", 1)), start + absl::Milliseconds(10),
                  h.answers.For("hurried"));
  batcher->Lookup(Request({"g:a"}, Customers("slow", 1)), start + absl::Seconds(5),
                  h.answers.For("slow"));
  batcher->Lookup(Request({"g:a"}, Customers("patient", 1)), start + absl::Seconds(3),
                  h.answers.For("patient"));
  h.clock.Advance(absl::Milliseconds(20));
  // Answered while the lookup it waited behind is still held in the port.
  REQUIRE(h.answers.Await(1));
  CHECK(h.answers.Get("hurried").status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK_THAT(std::string(h.answers.Get("hurried").status().message()),
             Catch::Contains("feature lookup"));
  CHECK(batcher->waiting_requests() == 2);
  h.port.Release();
  REQUIRE(h.answers.Await(4));
  const std::vector<v1::LookupOnlineRequest> calls = h.port.calls();
  REQUIRE(calls.size() == 2);
  CHECK(KeysOf(*h.answers.Get("slow")) == std::vector<std::string>{"slow0"});
  CHECK(calls[1].entity_keys(0).keys_size() == 2);
  CHECK(h.port.deadlines()[1] == start + absl::Seconds(3));
  CHECK(batcher->Counters().deadline_exceeded == 1);
}

TEST_CASE("A failed lookup fails every request in it with the port's status") {
  Harness h;
  auto batcher = h.Make(h.Options());
  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  REQUIRE(h.port.AwaitCalls(1));
  batcher->Lookup(Request({"g:a"}, Customers("y", 2)), h.later, h.answers.For("y"));
  batcher->Lookup(Request({"g:a"}, Customers("z", 3)), h.later, h.answers.For("z"));
  const absl::Status down =
      absl::UnavailableError("the feature store is unavailable: connection refused");
  h.port.Fail(down);
  h.port.Release();
  REQUIRE(h.answers.Await(3));
  for (const char* name : {"x", "y", "z"}) CHECK(h.answers.Get(name).status() == down);
  CHECK(h.port.calls().size() == 2);
}

TEST_CASE("Requests that cannot be looked up are refused at once") {
  Harness h;
  FeatureLookupBatcherOptions options = h.Options();
  options.max_waiting_requests = 1;
  auto batcher = h.Make(options);

  batcher->Lookup(Request({}, Customers("x", 1)), h.later, h.answers.For("no features"));
  batcher->Lookup(Request({"g:a"}, Customers("x", 0)), h.later, h.answers.For("no rows"));
  batcher->Lookup(Request({"g:a"}, {}), h.later, h.answers.For("no keys"));
  batcher->Lookup(Request({"g:a"}, {{"customer", {"c"}}, {"merchant", {"m", "n"}}}), h.later,
                  h.answers.For("ragged"));
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.clock.Now(), h.answers.For("late"));
  REQUIRE(h.answers.size() == 5);
  for (const char* name : {"no features", "no rows", "no keys", "ragged"}) {
    CHECK(h.answers.Get(name).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK_THAT(std::string(h.answers.Get("ragged").status().message()),
             Catch::Contains("'customer'") && Catch::Contains("'merchant'"));
  CHECK(h.answers.Get("late").status().code() == absl::StatusCode::kDeadlineExceeded);

  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("running"));
  REQUIRE(h.port.AwaitCalls(1));
  batcher->Lookup(Request({"g:a"}, Customers("y", 1)), h.later, h.answers.For("waiting"));
  batcher->Lookup(Request({"g:a"}, Customers("z", 1)), h.later, h.answers.For("over"));
  REQUIRE(h.answers.Get("over").status().code() == absl::StatusCode::kResourceExhausted);
  h.port.Release();
  REQUIRE(h.answers.Await(8));
  CHECK(h.answers.Get("waiting").ok());
}

TEST_CASE("Stop looks up everything waiting, then refuses new requests") {
  Harness h;
  auto batcher = h.Make(h.Options());
  h.port.Hold();
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  REQUIRE(h.port.AwaitCalls(1));
  batcher->Lookup(Request({"g:a"}, Customers("y", 1)), h.later, h.answers.For("y"));
  std::thread stopper([&] { batcher->Stop(); });
  // Stop refuses new requests before it waits for the queued ones. Probes sent before it began
  // are taken, and answered once the port is released.
  Answers probes;
  int sent = 0;
  REQUIRE(Eventually([&] {
    const std::string name = absl::StrCat("p", sent++);
    batcher->Lookup(Request({"g:b"}, Customers(name, 1)), h.later, probes.For(name));
    return probes.Get(name).status().code() == absl::StatusCode::kUnavailable;
  }));
  CHECK(h.answers.size() == 0);
  h.port.Release();
  stopper.join();
  CHECK(h.answers.size() == 2);
  CHECK(h.answers.Get("x").ok());
  CHECK(h.answers.Get("y").ok());
}

// A store that answers one column fewer than asked.
class ShortPort : public FeaturePort {
 public:
  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time) override {
    v1::LookupOnlineResponse response = FakeFeaturePort::Answer(request);
    response.mutable_columns()->RemoveLast();
    return response;
  }
};

TEST_CASE("An answer that does not match the lookup is INTERNAL") {
  Harness h;
  ShortPort port;
  FeatureLookupBatcherOptions options = h.Options();
  options.port = &port;
  auto batcher = h.Make(options);
  batcher->Lookup(Request({"g:a", "g:b"}, Customers("x", 2)), h.later, h.answers.For("x"));
  REQUIRE(h.answers.Await(1));
  CHECK(h.answers.Get("x").status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(h.answers.Get("x").status().message()), Catch::Contains("1 columns"));
}

// A port that answers without blocking: each call is kept, with the thread that made it, until
// the test completes it (from whichever thread plays the port's).
class NonBlockingPort : public FeaturePort {
 public:
  struct Call {
    v1::LookupOnlineRequest request;
    absl::Time deadline;
    std::thread::id thread;
  };

  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest&,
                                                        absl::Time) override {
    return absl::InternalError("a non-blocking port is never called blocking by the batcher");
  }
  bool non_blocking() const override { return true; }
  void LookupOnlineAsync(const v1::LookupOnlineRequest& request, absl::Time deadline,
                         std::function<void(absl::StatusOr<LookupAnswer>)> done) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back({request, deadline, std::this_thread::get_id()});
    pending_.push_back(std::move(done));
  }

  // Completes the oldest pending call with FakeFeaturePort's answer, or with `failure`.
  void Complete(absl::Status failure = absl::OkStatus()) {
    std::function<void(absl::StatusOr<LookupAnswer>)> done;
    v1::LookupOnlineRequest request;
    {
      absl::MutexLock lock(&mu_);
      REQUIRE(completed_ < pending_.size());
      request = calls_[completed_].request;
      done = std::move(pending_[completed_++]);
    }
    if (failure.ok()) {
      done(std::make_shared<const v1::LookupOnlineResponse>(FakeFeaturePort::Answer(request)));
    } else {
      done(failure);
    }
  }
  std::vector<Call> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(absl::StatusOr<LookupAnswer>)>> pending_ ABSL_GUARDED_BY(mu_);
  size_t completed_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_CASE("A non-blocking port is called from the requesting thread and answers from its own") {
  Harness h;
  NonBlockingPort port;
  FeatureLookupBatcherOptions options = h.Options();
  options.port = &port;
  auto batcher = h.Make(options);
  // At low load the lookup is sent before Lookup returns, from the caller's thread.
  batcher->Lookup(Request({"g:a"}, Customers("first", 1)), h.later, h.answers.For("first"));
  REQUIRE(port.calls().size() == 1);
  CHECK(port.calls()[0].thread == std::this_thread::get_id());
  CHECK(port.calls()[0].deadline == h.later);
  // Requests arriving while it is in flight wait, and go together once it is answered: the next
  // lookup is sent from the thread that answered the first (the port's), before its answer is
  // handed out.
  batcher->Lookup(Request({"g:a"}, Customers("y", 2)), h.later, h.answers.For("y"));
  batcher->Lookup(Request({"g:a"}, Customers("z", 3)), h.later, h.answers.For("z"));
  CHECK(port.calls().size() == 1);
  std::thread::id port_thread;
  std::thread answering([&] {
    port_thread = std::this_thread::get_id();
    port.Complete();
  });
  answering.join();
  REQUIRE(h.answers.size() == 1);
  CHECK(KeysOf(*h.answers.Get("first")) == std::vector<std::string>{"first0"});
  REQUIRE(port.calls().size() == 2);
  CHECK(port.calls()[1].thread == port_thread);
  CHECK(port.calls()[1].request.entity_keys(0).keys_size() == 5);
  port.Complete();
  REQUIRE(h.answers.size() == 3);
  CHECK(KeysOf(*h.answers.Get("y")) == std::vector<std::string>{"y0", "y1"});
  CHECK(KeysOf(*h.answers.Get("z")) == std::vector<std::string>{"z0", "z1", "z2"});
  CHECK(batcher->Counters().lookups == 2);
  CHECK(batcher->Counters().requests == 3);
}

TEST_CASE("A non-blocking port's failure fails every request of its lookup, and Stop waits") {
  Harness h;
  NonBlockingPort port;
  FeatureLookupBatcherOptions options = h.Options();
  options.port = &port;
  auto batcher = h.Make(options);
  batcher->Lookup(Request({"g:a"}, Customers("x", 1)), h.later, h.answers.For("x"));
  batcher->Lookup(Request({"g:a"}, Customers("y", 1)), h.later, h.answers.For("y"));
  batcher->Lookup(Request({"g:a"}, Customers("z", 1)), h.later, h.answers.For("z"));
  std::thread stopper([&] { batcher->Stop(); });
  const absl::Status down =
      absl::UnavailableError("the feature store is unavailable: connection refused");
  port.Complete();
  port.Complete(down);
  stopper.join();
  REQUIRE(h.answers.size() == 3);
  CHECK(h.answers.Get("x").ok());
  CHECK(h.answers.Get("y").status() == down);
  CHECK(h.answers.Get("z").status() == down);
  batcher->Lookup(Request({"g:a"}, Customers("late", 1)), h.later, h.answers.For("late"));
  CHECK(h.answers.Get("late").status().code() == absl::StatusCode::kUnavailable);
  CHECK(port.calls().size() == 2);
}

}  // namespace
}  // namespace fabrique::serving
