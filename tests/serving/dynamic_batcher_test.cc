#include "libs/serving/dynamic_batcher.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "tests/serving/batch_test_util.h"

namespace fabrique::serving {
namespace {

using testing::CountingRows;
using testing::Doubled;
using testing::Rows;

// How long a test waits (real time) for something the batcher should do promptly.
constexpr absl::Duration kPatience = absl::Seconds(20);
constexpr absl::Duration kForever = absl::Hours(1);  // A delay the fake clock never reaches.

// Answers by request id, awaited with a deadline instead of sleeping.
class Answers {
 public:
  struct Answer {
    int calls = 0;
    absl::StatusOr<TensorBatch> outputs = absl::UnknownError("not answered");
    BatchStats stats;
  };

  BatchDone For(int id) {
    return [this, id](absl::StatusOr<TensorBatch> outputs, const BatchStats& stats) {
      absl::MutexLock lock(&mu_);
      Answer& answer = answers_[id];
      ++answer.calls;
      answer.outputs = std::move(outputs);
      answer.stats = stats;
      ++total_;
    };
  }

  bool Await(int count) {
    absl::MutexLock lock(&mu_);
    const auto reached = [this, count]()
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return total_ >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kPatience);
  }

  Answer Get(int id) {
    absl::MutexLock lock(&mu_);
    return answers_[id];
  }

  int total() {
    absl::MutexLock lock(&mu_);
    return total_;
  }

 private:
  absl::Mutex mu_;
  std::map<int, Answer> answers_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;
};

// The doubling model, recording the size of every batch it computes.
class Model {
 public:
  BatchCompute Compute() {
    return [this](const TensorBatch& inputs) {
      absl::MutexLock lock(&mu_);
      batches_.push_back(inputs.rows);
      return Doubled(inputs);
    };
  }
  std::vector<int64_t> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> batches_ ABSL_GUARDED_BY(mu_);
};

struct Fixture {
  core::FakeClock clock;
  Answers answers;
  Model model;

  BatcherOptions Options(int max_batch_size, absl::Duration delay) {
    BatcherOptions options;
    options.max_batch_size = max_batch_size;
    options.max_queue_delay = delay;
    options.clock = &clock;
    return options;
  }

  std::unique_ptr<DynamicBatcher> Make(BatcherOptions options, BatchCompute compute = nullptr) {
    absl::StatusOr<std::unique_ptr<DynamicBatcher>> batcher =
        DynamicBatcher::Create(std::move(options), compute ? compute : model.Compute());
    REQUIRE(batcher.ok());
    return std::move(batcher).value();
  }

  absl::Time Later() { return clock.Now() + kForever * 2; }
};

std::string Message(const absl::StatusOr<TensorBatch>& outputs) {
  return std::string(outputs.status().message());
}

TEST_CASE_METHOD(Fixture, "Rows reaching max_batch_size are computed at once as one batch") {
  auto batcher = Make(Options(4, kForever));
  batcher->Submit(Rows({1, 2}), Later(), answers.For(0));
  batcher->Submit(Rows({3, 4}), Later(), answers.For(1));
  REQUIRE(answers.Await(2));  // The fake clock never moved: only the size can have sent it.
  CHECK(model.batches() == std::vector<int64_t>{4});
  const auto second = answers.Get(1);
  REQUIRE(second.outputs.ok());
  CHECK(second.outputs->tensors.at(0).fp32 == std::vector<float>{6, 8});
  CHECK(second.stats.batch_rows == 4);
  CHECK(second.stats.queue_time == absl::ZeroDuration());
}

TEST_CASE_METHOD(Fixture, "A partial batch is computed once the oldest has waited the delay") {
  auto batcher = Make(Options(8, absl::Milliseconds(1)));
  batcher->Submit(Rows({1, 2, 3}), Later(), answers.For(0));
  CHECK(batcher->queued_rows() == 3);  // The fake clock has not moved: it must still wait.
  clock.Advance(absl::Milliseconds(1));
  REQUIRE(answers.Await(1));
  const auto answer = answers.Get(0);
  REQUIRE(answer.outputs.ok());
  CHECK(answer.stats.batch_rows == 3);
  // Started exactly when the delay ran out, not before.
  CHECK(answer.stats.queue_time == absl::Milliseconds(1));
  CHECK(batcher->queued_rows() == 0);
}

TEST_CASE_METHOD(Fixture, "A preferred size is computed at once") {
  BatcherOptions options = Options(16, kForever);
  options.preferred_batch_sizes = {4, 8};
  auto batcher = Make(options);
  batcher->Submit(Rows({1, 2}), Later(), answers.For(0));
  batcher->Submit(Rows({3, 4}), Later(), answers.For(1));
  REQUIRE(answers.Await(2));
  CHECK(model.batches() == std::vector<int64_t>{4});
}

TEST_CASE_METHOD(Fixture, "Batches never pass max_batch_size and never split a request") {
  auto batcher = Make(Options(8, kForever));
  for (int i = 0; i < 10; ++i) batcher->Submit(CountingRows(3, i * 3), Later(), answers.For(i));
  batcher->Stop();  // Drains the last partial batch.
  REQUIRE(answers.total() == 10);
  int64_t rows = 0;
  for (int64_t batch : model.batches()) {
    CHECK(batch <= 8);
    CHECK(batch % 3 == 0);
    rows += batch;
  }
  CHECK(rows == 30);
  for (int i = 0; i < 10; ++i) {
    const auto answer = answers.Get(i);
    REQUIRE(answer.outputs.ok());
    CHECK(answer.outputs->tensors.at(0).fp32 ==
          std::vector<float>{2.0f * (i * 3), 2.0f * (i * 3 + 1), 2.0f * (i * 3 + 2)});
  }
}

TEST_CASE_METHOD(Fixture, "Instances compute batches in parallel") {
  constexpr int kInstances = 3;
  absl::Mutex mu;
  int running = 0;
  BatcherOptions options = Options(1, kForever);
  options.instances = kInstances;
  // Each compute waits until all instances are inside compute at once: run one at a time, the
  // first would give up and fail.
  auto batcher = Make(options, [&](const TensorBatch& inputs) -> absl::StatusOr<TensorBatch> {
    absl::MutexLock lock(&mu);
    ++running;
    const auto all_in = [&]() { return running == kInstances; };
    if (!mu.AwaitWithTimeout(absl::Condition(&all_in), kPatience)) {
      return absl::DeadlineExceededError("the other instances never ran alongside");
    }
    return Doubled(inputs);
  });
  for (int i = 0; i < kInstances; ++i) batcher->Submit(Rows({float(i)}), Later(), answers.For(i));
  REQUIRE(answers.Await(kInstances));
  for (int i = 0; i < kInstances; ++i) CHECK(answers.Get(i).outputs.ok());
}

TEST_CASE_METHOD(Fixture, "A full queue refuses at once with RESOURCE_EXHAUSTED") {
  BatcherOptions options = Options(4, kForever);
  options.max_queue_rows = 4;
  absl::Notification computing, release;
  auto batcher = Make(options, [&](const TensorBatch& inputs) {
    if (!computing.HasBeenNotified()) computing.Notify();  // One instance: never concurrent.
    release.WaitForNotification();
    return Doubled(inputs);
  });
  batcher->Submit(CountingRows(4), Later(), answers.For(0));  // Full: taken into compute.
  REQUIRE(computing.WaitForNotificationWithTimeout(kPatience));
  batcher->Submit(CountingRows(2), Later(), answers.For(1));  // Waits: the one instance is busy.
  CHECK(batcher->queued_rows() == 2);
  batcher->Submit(CountingRows(3), Later(), answers.For(2));  // 2 + 3 > 4.

  const auto refused = answers.Get(2);  // Answered inline, before Submit returned.
  CHECK(refused.calls == 1);
  CHECK(refused.outputs.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(Message(refused.outputs),
             Catch::Contains("queue is full") && Catch::Contains("2 of its 4 rows"));
  release.Notify();
  batcher->Stop();
  CHECK(answers.Get(0).outputs.ok());
  CHECK(answers.Get(1).outputs.ok());
}

TEST_CASE_METHOD(Fixture, "A request whose deadline passes in the queue is never computed") {
  auto batcher = Make(Options(8, absl::Milliseconds(2)));
  SECTION("deadline passed while waiting for the batch") {
    batcher->Submit(Rows({1}), clock.Now() + absl::Milliseconds(1), answers.For(0));
    clock.Advance(absl::Milliseconds(2));
    REQUIRE(answers.Await(1));
    const auto answer = answers.Get(0);
    CHECK(answer.outputs.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK_THAT(Message(answer.outputs), Catch::Contains("not computed"));
  }
  SECTION("deadline already passed when submitted: refused inline") {
    batcher->Submit(Rows({1}), clock.Now(), answers.For(0));
    CHECK(answers.total() == 1);
    CHECK(answers.Get(0).outputs.status().code() == absl::StatusCode::kDeadlineExceeded);
  }
  batcher->Stop();
  CHECK(model.batches().empty());
}

TEST_CASE_METHOD(Fixture, "A compute error reaches every request of the batch") {
  auto batcher = Make(Options(4, kForever), [](const TensorBatch&) -> absl::StatusOr<TensorBatch> {
    return absl::FailedPreconditionError("the module was freed");
  });
  batcher->Submit(Rows({1, 2}), Later(), answers.For(0));
  batcher->Submit(Rows({3, 4}), Later(), answers.For(1));
  REQUIRE(answers.Await(2));
  for (int id : {0, 1}) {
    const auto answer = answers.Get(id);
    CHECK(answer.calls == 1);
    CHECK(answer.outputs.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(Message(answer.outputs) == "the module was freed");
  }
}

TEST_CASE_METHOD(Fixture, "Stop computes everything queued, then refuses with UNAVAILABLE") {
  auto batcher = Make(Options(8, kForever));
  for (int i = 0; i < 3; ++i) batcher->Submit(Rows({float(i)}), Later(), answers.For(i));
  batcher->Stop();
  CHECK(answers.total() == 3);  // Every done called before Stop returned.
  CHECK(model.batches() == std::vector<int64_t>{3});
  CHECK(answers.Get(2).outputs->tensors.at(0).fp32 == std::vector<float>{4});

  batcher->Stop();  // Idempotent.
  batcher->Submit(Rows({9}), Later(), answers.For(3));
  const auto refused = answers.Get(3);
  CHECK(refused.calls == 1);
  CHECK(refused.outputs.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(Message(refused.outputs), Catch::Contains("stopped"));
  CHECK(batcher->queued_rows() == 0);
}

TEST_CASE_METHOD(Fixture, "A request with no rows or over max_batch_size is INVALID_ARGUMENT") {
  auto batcher = Make(Options(8, kForever));
  batcher->Submit(CountingRows(9), Later(), answers.For(0));
  batcher->Submit(TensorBatch(), Later(), answers.For(1));
  CHECK(answers.total() == 2);
  const auto over = answers.Get(0);
  CHECK(over.outputs.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(over.outputs),
             Catch::Contains("9 rows") && Catch::Contains("between 1 and 8"));
  CHECK(answers.Get(1).outputs.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(model.batches().empty());
}

TEST_CASE_METHOD(Fixture, "A request without a done is dropped, not computed") {
  auto batcher = Make(Options(1, kForever));
  batcher->Submit(Rows({1}), Later(), nullptr);
  CHECK(batcher->queued_rows() == 0);
  batcher->Stop();
  CHECK(model.batches().empty());
}

TEST_CASE_METHOD(Fixture, "Stats report queue time, compute time and batch rows") {
  auto batcher = Make(Options(2, kForever), [this](const TensorBatch& inputs) {
    clock.Advance(absl::Milliseconds(3));
    return Doubled(inputs);
  });
  batcher->Submit(Rows({1}), Later(), answers.For(0));
  clock.Advance(absl::Milliseconds(5));  // The first waits 5 ms for a second row.
  batcher->Submit(Rows({2}), Later(), answers.For(1));
  REQUIRE(answers.Await(2));
  const auto first = answers.Get(0), second = answers.Get(1);
  CHECK(first.stats.queue_time == absl::Milliseconds(5));
  CHECK(second.stats.queue_time == absl::ZeroDuration());
  CHECK(first.stats.compute_time == absl::Milliseconds(3));
  CHECK(first.stats.batch_rows == 2);
  CHECK(second.stats.batch_rows == 2);
}

TEST_CASE_METHOD(Fixture, "Out-of-range options are INVALID_ARGUMENT naming the option") {
  struct Case {
    const char* name;
    void (*edit)(BatcherOptions*);
  };
  const Case cases[] = {
      {"max_batch_size", [](BatcherOptions* o) { o->max_batch_size = 0; }},
      {"max_queue_delay", [](BatcherOptions* o) { o->max_queue_delay = -absl::Milliseconds(1); }},
      {"preferred_batch_sizes",
       [](BatcherOptions* o) {
         o->preferred_batch_sizes = {4, 9};
       }},
      {"instances", [](BatcherOptions* o) { o->instances = 0; }},
      {"max_queue_rows", [](BatcherOptions* o) { o->max_queue_rows = 7; }},
      {"clock", [](BatcherOptions* o) { o->clock = nullptr; }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    BatcherOptions options = Options(8, kForever);
    c.edit(&options);
    const auto batcher = DynamicBatcher::Create(options, model.Compute());
    CHECK(batcher.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(batcher.status().message()), Catch::Contains(c.name));
  }
  const auto no_compute = DynamicBatcher::Create(Options(8, kForever), nullptr);
  CHECK(no_compute.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(no_compute.status().message()), Catch::Contains("compute"));
}

TEST_CASE_METHOD(Fixture, "A batcher destroyed from its own done finishes without deadlock") {
  auto batcher = Make(Options(1, kForever));
  absl::Notification destroyed;
  batcher->Submit(Rows({1}), Later(), [&](absl::StatusOr<TensorBatch> outputs, const BatchStats&) {
    CHECK(outputs.ok());
    batcher.reset();  // The last holder of the version letting go.
    destroyed.Notify();
  });
  CHECK(destroyed.WaitForNotificationWithTimeout(kPatience));
}

TEST_CASE_METHOD(Fixture, "Stop called from a done stops taking requests without waiting") {
  auto batcher = Make(Options(1, kForever));
  absl::Notification stopped;
  batcher->Submit(Rows({1}), Later(), [&](absl::StatusOr<TensorBatch>, const BatchStats&) {
    batcher->Stop();  // Would wait for itself if it joined its own thread.
    batcher->Submit(Rows({2}), Later(), answers.For(0));
    stopped.Notify();
  });
  REQUIRE(stopped.WaitForNotificationWithTimeout(kPatience));
  CHECK(answers.Get(0).outputs.status().code() == absl::StatusCode::kUnavailable);
  batcher->Stop();  // From here it joins the thread.
}

TEST_CASE("Concurrent submitters each get exactly their own rows back") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  BatcherOptions options;  // The real clock: real delays, real races.
  options.max_batch_size = 8;
  options.max_queue_delay = absl::Microseconds(100);
  options.preferred_batch_sizes = {4};
  options.instances = 2;
  auto batcher = DynamicBatcher::Create(options, Doubled);
  REQUIRE(batcher.ok());

  std::vector<std::atomic<int>> calls(kThreads * kPerThread);
  std::atomic<int> wrong{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        const int64_t rows = 1 + id % 3;
        const float first = static_cast<float>(id * 4);
        (*batcher)->Submit(
            CountingRows(rows, first), absl::InfiniteFuture(),
            [&, id, rows, first](absl::StatusOr<TensorBatch> outputs, const BatchStats& stats) {
              calls[static_cast<size_t>(id)].fetch_add(1);
              bool right = outputs.ok() && outputs->rows == rows && stats.batch_rows >= rows &&
                           stats.batch_rows <= 8;
              for (int64_t r = 0; right && r < rows; ++r) {
                right = outputs->tensors.at(0).fp32.at(static_cast<size_t>(r)) ==
                        2 * (first + static_cast<float>(r));
              }
              if (!right) wrong.fetch_add(1);
            });
      }
    });
  }
  for (std::thread& submitter : submitters) submitter.join();
  (*batcher)->Stop();
  CHECK(wrong.load() == 0);
  int once = 0;
  for (const std::atomic<int>& count : calls) once += count.load() == 1 ? 1 : 0;
  CHECK(once == kThreads * kPerThread);
}

}  // namespace
}  // namespace fabrique::serving
