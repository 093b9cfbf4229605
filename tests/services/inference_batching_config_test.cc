// The inference server's batching flags: preferred sizes and the per-model overrides file.

#include "catch2/catch.hpp"
#include "services/inference/batching_config.h"

namespace fabrique::services {
namespace {

bool Mentions(const absl::Status& status, absl::string_view text) {
  return status.message().find(text) != absl::string_view::npos;
}

TEST_CASE("Preferred batch sizes parse sorted and without repeats") {
  auto sizes = ParseBatchSizes("16, 4,8,4", "--preferred_batch_sizes");
  REQUIRE(sizes.ok());
  CHECK(*sizes == std::vector<int>{4, 8, 16});
  CHECK(ParseBatchSizes("", "--preferred_batch_sizes")->empty());
  auto bad = ParseBatchSizes("4,zero", "--preferred_batch_sizes");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(bad.status(), "--preferred_batch_sizes"));
  CHECK(Mentions(bad.status(), "zero"));
  CHECK(ParseBatchSizes("-2", "f").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Per-model overrides start from the server-wide batching") {
  serving::BatcherOptions defaults;
  defaults.max_batch_size = 32;
  defaults.instances = 1;
  auto overrides = ParseBatchingOverrides(
      "model,max_batch_size,max_queue_delay_us,preferred,instances\n"
      "# the churn model batches wide\n"
      "churn,64,500,8;16;32,2\n"
      "fraud,,,,4\n",
      defaults, "batching.csv");
  INFO(overrides.status().ToString());
  REQUIRE(overrides.ok());
  REQUIRE(overrides->size() == 2);
  const serving::BatcherOptions& churn = overrides->at("churn");
  CHECK(churn.max_batch_size == 64);
  CHECK(churn.max_queue_delay == absl::Microseconds(500));
  CHECK(churn.preferred_batch_sizes == std::vector<int>{8, 16, 32});
  CHECK(churn.instances == 2);
  const serving::BatcherOptions& fraud = overrides->at("fraud");
  CHECK(fraud.max_batch_size == 32);
  CHECK(fraud.instances == 4);
}

TEST_CASE("A bad overrides line is refused naming the file, the line and the field") {
  serving::BatcherOptions defaults;
  auto fields = ParseBatchingOverrides("churn,64\n", defaults, "b.csv");
  CHECK(fields.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(fields.status(), "b.csv line 1"));
  auto number = ParseBatchingOverrides("\nchurn,64,x,,\n", defaults, "b.csv");
  CHECK(number.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(number.status(), "line 2 max_queue_delay_us"));
  auto twice = ParseBatchingOverrides("churn,1,,,\nchurn,2,,,\n", defaults, "b.csv");
  CHECK(twice.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(twice.status(), "second time"));
  auto missing = ReadBatchingFile("/nonexistent/batching.csv", defaults);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(missing.status(), "/nonexistent/batching.csv"));
}

}  // namespace
}  // namespace fabrique::services
