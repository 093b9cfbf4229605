#include "libs/serving/capacity_probe.h"

#include <atomic>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/serving/served_version.h"

namespace fabrique::serving {
namespace {

// Takes `compute` per batch, answers one FP32 "score" per row, and fails every batch while
// `fail` is set (or every other one with `fail_every_other`).
class TimedModule : public LoadedModule {
 public:
  explicit TimedModule(absl::Duration compute) : compute_(compute) {}
  absl::StatusOr<TensorBatch> Forward(const TensorBatch& inputs) const override {
    absl::SleepFor(compute_);
    const int call = calls.fetch_add(1);
    if (fail.load() || (fail_every_other.load() && call % 2 == 1)) {
      return absl::InternalError("the module broke");
    }
    TensorBatch out;
    out.rows = inputs.rows;
    Tensor& t = out.tensors.emplace_back();
    t.name = "score";
    t.shape = {inputs.rows, 1};
    t.fp32.assign(static_cast<size_t>(inputs.rows), 0.5f);
    return out;
  }
  std::string device() const override { return "cpu"; }

  mutable std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::atomic<bool> fail_every_other{false};

 private:
  const absl::Duration compute_;
};

void Spec(v1::TensorSpec* spec, const std::string& name, const std::string& datatype,
          std::initializer_list<int64_t> shape) {
  spec->set_name(name);
  spec->set_datatype(datatype);
  for (int64_t dim : shape) spec->add_shape(dim);
}

// Inputs of every kind the probe synthesises, with fixed and variable dimensions.
v1::ModelSignature Signature() {
  v1::ModelSignature signature;
  Spec(signature.add_inputs(), "x", "FP32", {-1, 3});
  Spec(signature.add_inputs(), "country", "BYTES", {-1, -1});
  Spec(signature.add_inputs(), "count", "INT64", {-1});
  Spec(signature.add_inputs(), "flag", "BOOL", {-1, 1});
  Spec(signature.add_outputs(), "score", "FP32", {-1, 1});
  return signature;
}

// A READY version of "churn" whose module is `module` (kept by the test to steer it).
struct ProbedVersion {
  explicit ProbedVersion(absl::Duration compute = absl::Microseconds(200), int max_batch = 8) {
    v1::ModelVersion record;
    record.set_model("churn");
    record.set_version(3);
    *record.mutable_signature() = Signature();
    version = ServedVersion::Create(record);
    auto owned = std::make_unique<TimedModule>(compute);
    module = owned.get();
    BatcherOptions batching;
    batching.max_batch_size = max_batch;
    REQUIRE(version->Prepare(std::move(owned), batching).ok());
    REQUIRE(version->MarkReady(absl::Now()));
  }
  TimedModule* module = nullptr;
  std::shared_ptr<ServedVersion> version;
};

CapacityProbeOptions Quick(double qps, int batch = 2) {
  CapacityProbeOptions options;
  options.qps = qps;
  options.batch = batch;
  options.duration = absl::Seconds(1);
  options.saturation_duration = absl::Milliseconds(300);
  options.max_in_flight = 16;
  return options;
}

bool Mentions(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

TEST_CASE("SyntheticInputs gives every input its type and shape, the same for the same seed") {
  absl::StatusOr<TensorBatch> rows = SyntheticInputs(Signature(), 4, 7);
  REQUIRE(rows.ok());
  CHECK(rows->rows == 4);
  REQUIRE(rows->tensors.size() == 4);
  const Tensor& x = rows->tensors[0];
  CHECK(x.name == "x");
  CHECK(x.type == DataType::kFp32);
  CHECK(x.shape == std::vector<int64_t>{4, 3});
  CHECK(x.fp32.size() == 12);
  const Tensor& country = rows->tensors[1];
  CHECK(country.type == DataType::kBytes);
  CHECK(country.shape == std::vector<int64_t>{4, 1});
  REQUIRE(country.bytes.size() == 4);
  for (const std::string& word : country.bytes) {
    CHECK(word.size() >= 3);
    for (char c : word) CHECK((c >= 'a' && c <= 'z'));
  }
  CHECK(rows->tensors[2].shape == std::vector<int64_t>{4});
  CHECK(rows->tensors[2].int64.size() == 4);
  CHECK(rows->tensors[3].boolean.size() == 4);
  for (uint8_t b : rows->tensors[3].boolean) CHECK(b <= 1);

  absl::StatusOr<TensorBatch> again = SyntheticInputs(Signature(), 4, 7);
  REQUIRE(again.ok());
  CHECK(again->tensors[0].fp32 == x.fp32);
  CHECK(again->tensors[1].bytes == country.bytes);
  absl::StatusOr<TensorBatch> other = SyntheticInputs(Signature(), 4, 8);
  REQUIRE(other.ok());
  CHECK(other->tensors[0].fp32 != x.fp32);
}

TEST_CASE("SyntheticInputs refuses a datatype it cannot make and rows below 1") {
  v1::ModelSignature signature = Signature();
  signature.mutable_inputs(0)->set_datatype("FP8");
  absl::StatusOr<TensorBatch> rows = SyntheticInputs(signature, 2, 1);
  CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(rows.status(), "'x'"));
  CHECK(SyntheticInputs(Signature(), 0, 1).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("bad options are refused naming the flag") {
  ProbedVersion probed;
  CapacityProbeOptions options = Quick(10);
  options.qps = 0;
  absl::Status status = RunCapacityProbe(*probed.version, options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(status, "--qps"));

  options = Quick(10);
  options.batch = 0;
  status = RunCapacityProbe(*probed.version, options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(status, "--batch"));

  for (absl::Duration duration : {absl::Milliseconds(500), absl::Minutes(11)}) {
    options = Quick(10);
    options.duration = duration;
    status = RunCapacityProbe(*probed.version, options).status();
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Mentions(status, "--duration"));
  }
  CHECK(probed.module->calls.load() == 0);
}

TEST_CASE("the load phase honours the pace asked for and the figures are sane") {
  ProbedVersion probed;
  std::vector<CapacityProbeProgress> progress;
  CapacityProbeOptions options = Quick(200);
  options.progress = [&progress](const CapacityProbeProgress& p) { progress.push_back(p); };
  absl::StatusOr<CapacityFigures> figures = RunCapacityProbe(*probed.version, options);
  REQUIRE(figures.ok());
  CHECK(figures->device == "cpu");
  CHECK(figures->offered_qps == 200);
  CHECK(figures->batch == 2);
  // Offered against achieved within 10%.
  CHECK(figures->achieved_qps >= 180);
  CHECK(figures->achieved_qps <= 220);
  CHECK(figures->load_sent >= 180);
  CHECK(figures->load_sent <= 220);
  CHECK(figures->load_answered == figures->load_sent);
  CHECK(figures->failed() == 0);
  // Each answer waits at least for its batch's compute (200 µs).
  CHECK(figures->p50_ms >= 0.2);
  CHECK(figures->p99_ms >= figures->p50_ms);
  CHECK(figures->p99_ms < 1000);
  // Saturated, batches of up to 8 rows in 200 µs: far more than the 200 offered per second.
  CHECK(figures->max_qps > 200);
  CHECK(figures->saturation_answered > 0);
  // Progress: the load phase reported at least at its end, then the saturation phase.
  REQUIRE(progress.size() >= 2);
  CHECK(progress.front().phase == "load");
  CHECK(progress.back().phase == "saturation");
}

TEST_CASE("a slow module shows in the latency and the saturation throughput") {
  ProbedVersion probed(absl::Milliseconds(20), /*max_batch=*/2);
  CapacityProbeOptions options = Quick(20, /*batch=*/2);
  absl::StatusOr<CapacityFigures> figures = RunCapacityProbe(*probed.version, options);
  REQUIRE(figures.ok());
  CHECK(figures->p50_ms >= 20);
  // One batch of one request per 20 ms: about 50 requests per second, at most.
  // No lower bound beyond "some": on a loaded machine a 20 ms sleep may take far longer.
  CHECK(figures->max_qps <= 55);
  CHECK(figures->saturation_answered > 0);
}

TEST_CASE("failed requests are counted and the answered ones still measured") {
  ProbedVersion probed(absl::Microseconds(100), /*max_batch=*/2);
  probed.module->fail_every_other = true;
  absl::StatusOr<CapacityFigures> figures =
      RunCapacityProbe(*probed.version, Quick(100, /*batch=*/2));
  REQUIRE(figures.ok());
  CHECK(figures->load_failed > 0);
  CHECK(figures->load_answered > 0);
  CHECK(figures->load_failed + figures->load_answered == figures->load_sent);
  CHECK(figures->saturation_failed > 0);
  CHECK(figures->failed() == figures->load_failed + figures->saturation_failed);
  CHECK(figures->p50_ms > 0);
}

TEST_CASE("a version that answers nothing is UNAVAILABLE with the first error") {
  ProbedVersion probed;
  probed.module->fail = true;
  absl::Status status = RunCapacityProbe(*probed.version, Quick(50)).status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(Mentions(status, "the module broke"));
}

TEST_CASE("a cancelled probe stops at once") {
  ProbedVersion probed;
  std::atomic<bool> cancel{false};
  CapacityProbeOptions options = Quick(100);
  options.duration = absl::Minutes(5);
  options.cancelled = [&cancel] { return cancel.load(); };
  options.progress = [&cancel](const CapacityProbeProgress&) { cancel = true; };
  const absl::Time start = absl::Now();
  absl::Status status = RunCapacityProbe(*probed.version, options).status();
  CHECK(status.code() == absl::StatusCode::kCancelled);
  CHECK(absl::Now() - start < absl::Seconds(30));
}

}  // namespace
}  // namespace fabrique::serving
