#include "libs/serving/batch_execution.h"

#include <stdexcept>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "tests/serving/batch_test_util.h"

namespace fabrique::serving {
namespace {

using testing::Doubled;
using testing::Rows;

// What one request was answered.
struct Answer {
  int calls = 0;
  absl::StatusOr<TensorBatch> outputs = absl::UnknownError("not answered");
  BatchStats stats;
};

// Requests over `rows`, enqueued at `enqueued`, answered into `answers` (one per request).
std::vector<QueuedRequest> Requests(const std::vector<std::vector<float>>& rows,
                                    absl::Time enqueued, std::vector<Answer>* answers) {
  answers->assign(rows.size(), Answer());
  std::vector<QueuedRequest> requests;
  for (size_t i = 0; i < rows.size(); ++i) {
    requests.push_back(
        QueuedRequest{Rows(rows[i]), enqueued, absl::InfiniteFuture(),
                      [answers, i](absl::StatusOr<TensorBatch> outputs, const BatchStats& stats) {
                        Answer& answer = (*answers)[i];
                        ++answer.calls;
                        answer.outputs = std::move(outputs);
                        answer.stats = stats;
                      }});
  }
  return requests;
}

struct Fixture {
  core::FakeClock clock;
  const absl::Time enqueued = clock.Now();
  std::vector<Answer> answers;
  std::vector<const TensorBatch*> scratch;
  int computes = 0;
  std::vector<int64_t> computed_rows;

  // A compute that counts its calls, takes 3 ms of the fake clock and then answers `answer`.
  BatchCompute Counting(BatchCompute answer) {
    return [this, answer](const TensorBatch& inputs) {
      ++computes;
      computed_rows.push_back(inputs.rows);
      clock.Advance(absl::Milliseconds(3));
      return answer(inputs);
    };
  }
};

TEST_CASE_METHOD(Fixture, "A batch's outputs are split back to each request in order") {
  std::vector<QueuedRequest> requests = Requests({{1, 2}, {3}, {4, 5, 6}}, enqueued, &answers);
  clock.Advance(absl::Milliseconds(2));
  ExecuteBatch(&requests, clock.Now(), Counting(Doubled), clock, &scratch);

  CHECK(computes == 1);
  CHECK(computed_rows == std::vector<int64_t>{6});
  CHECK(requests.empty());
  const std::vector<std::vector<float>> expected = {{2, 4}, {6}, {8, 10, 12}};
  for (size_t i = 0; i < answers.size(); ++i) {
    INFO("request " << i);
    CHECK(answers[i].calls == 1);
    REQUIRE(answers[i].outputs.ok());
    CHECK(answers[i].outputs->rows == static_cast<int64_t>(expected[i].size()));
    CHECK(answers[i].outputs->tensors.at(0).name == "y");
    CHECK(answers[i].outputs->tensors.at(0).fp32 == expected[i]);
    CHECK(answers[i].stats.batch_rows == 6);
    CHECK(answers[i].stats.queue_time == absl::Milliseconds(2));
    CHECK(answers[i].stats.compute_time == absl::Milliseconds(3));
  }
}

TEST_CASE_METHOD(Fixture,
                 "A request without a done is computed but leaves the others' rows right") {
  std::vector<QueuedRequest> requests = Requests({{1, 2}, {3}, {4}}, enqueued, &answers);
  requests[0].done = nullptr;
  ExecuteBatch(&requests, clock.Now(), Counting(Doubled), clock, &scratch);
  CHECK(computed_rows == std::vector<int64_t>{4});
  CHECK(answers[0].calls == 0);
  REQUIRE(answers[1].outputs.ok());
  CHECK(answers[1].outputs->tensors.at(0).fp32 == std::vector<float>{6});
  REQUIRE(answers[2].outputs.ok());
  CHECK(answers[2].outputs->tensors.at(0).fp32 == std::vector<float>{8});
}

TEST_CASE_METHOD(Fixture, "A request alone in its batch gets the outputs whole") {
  std::vector<QueuedRequest> requests = Requests({{7, 8}}, enqueued, &answers);
  ExecuteBatch(&requests, clock.Now(), Counting(Doubled), clock, &scratch);
  REQUIRE(answers[0].outputs.ok());
  CHECK(answers[0].outputs->tensors.at(0).fp32 == std::vector<float>{14, 16});
  CHECK(answers[0].stats.batch_rows == 2);
}

TEST_CASE_METHOD(Fixture, "A compute error goes to every request of the batch") {
  std::vector<QueuedRequest> requests = Requests({{1}, {2, 3}}, enqueued, &answers);
  ExecuteBatch(&requests, clock.Now(), Counting([](const TensorBatch&) {
    return absl::StatusOr<TensorBatch>(absl::FailedPreconditionError("module broke"));
  }),
               clock, &scratch);
  for (const Answer& answer : answers) {
    CHECK(answer.calls == 1);
    CHECK(answer.outputs.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(answer.outputs.status().message() == "module broke");
    CHECK(answer.stats.batch_rows == 3);
  }
}

TEST_CASE_METHOD(Fixture, "Outputs without one row per input row are INTERNAL for all") {
  std::vector<QueuedRequest> requests = Requests({{1}, {2, 3}}, enqueued, &answers);
  SECTION("the batch answers another number of rows") {
    ExecuteBatch(&requests, clock.Now(), Counting([](const TensorBatch&) {
      return Doubled(Rows({1, 2}));
    }),
                 clock, &scratch);
    for (const Answer& answer : answers) {
      CHECK(answer.outputs.status().code() == absl::StatusCode::kInternal);
      CHECK_THAT(std::string(answer.outputs.status().message()),
                 Catch::Contains("answered 2 rows for a batch of 3"));
    }
  }
  SECTION("one output tensor lacks elements for its rows") {
    ExecuteBatch(&requests, clock.Now(), Counting([](const TensorBatch& inputs) {
      absl::StatusOr<TensorBatch> outputs = Doubled(inputs);
      outputs->tensors[0].fp32.pop_back();
      return outputs;
    }),
                 clock, &scratch);
    for (const Answer& answer : answers) {
      CHECK(answer.outputs.status().code() == absl::StatusCode::kInternal);
      CHECK_THAT(std::string(answer.outputs.status().message()), Catch::Contains("output 'y'"));
    }
  }
}

TEST_CASE_METHOD(Fixture, "A compute that throws is answered INTERNAL, not a crash") {
  std::vector<QueuedRequest> requests = Requests({{1}}, enqueued, &answers);
  ExecuteBatch(
      &requests, clock.Now(),
      [](const TensorBatch&) -> absl::StatusOr<TensorBatch> {
        throw std::runtime_error("CUDA out of memory");
      },
      clock, &scratch);
  CHECK(answers[0].outputs.status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(answers[0].outputs.status().message()),
             Catch::Contains("CUDA out of memory"));
}

TEST_CASE_METHOD(Fixture, "Expired requests are answered DEADLINE_EXCEEDED and never computed") {
  std::vector<QueuedRequest> requests = Requests({{1}, {2}, {3}}, enqueued, &answers);
  const absl::Time formed_at = enqueued + absl::Milliseconds(5);
  SECTION("the live rows are computed without the expired one") {
    requests[1].deadline = formed_at;
    ExecuteBatch(&requests, formed_at, Counting(Doubled), clock, &scratch);
    CHECK(computed_rows == std::vector<int64_t>{2});
    CHECK(answers[1].calls == 1);
    CHECK(answers[1].outputs.status().code() == absl::StatusCode::kDeadlineExceeded);
    CHECK_THAT(std::string(answers[1].outputs.status().message()), Catch::Contains("5ms"));
    CHECK(answers[1].stats.queue_time == absl::Milliseconds(5));
    REQUIRE(answers[2].outputs.ok());
    CHECK(answers[2].outputs->tensors.at(0).fp32 == std::vector<float>{6});
  }
  SECTION("a batch of expired requests calls no compute") {
    for (QueuedRequest& request : requests) request.deadline = enqueued + absl::Milliseconds(1);
    ExecuteBatch(&requests, formed_at, Counting(Doubled), clock, &scratch);
    CHECK(computes == 0);
    for (const Answer& answer : answers) {
      CHECK(answer.calls == 1);
      CHECK(answer.outputs.status().code() == absl::StatusCode::kDeadlineExceeded);
    }
  }
}

TEST_CASE_METHOD(Fixture, "Requests that cannot be joined are refused without computing") {
  std::vector<QueuedRequest> requests = Requests({{1}, {2}}, enqueued, &answers);
  requests[1].inputs = Rows({2}, "other");
  ExecuteBatch(&requests, clock.Now(), Counting(Doubled), clock, &scratch);
  CHECK(computes == 0);
  for (const Answer& answer : answers) {
    CHECK(answer.calls == 1);
    CHECK(answer.outputs.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(answer.outputs.status().message()),
               Catch::Contains("joining the rows of 2 requests") && Catch::Contains("'other'"));
  }
}

TEST_CASE("CheckOutputRows accepts exactly one row per input row") {
  CHECK(CheckOutputRows(Rows({1, 2, 3}), 3).ok());
  CHECK(CheckOutputRows(Rows({1, 2}), 3).code() == absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace fabrique::serving
