// The entity phase: Predict by entity key (the server reads the features itself) against what a
// client does without it, LookupOnline then ModelInfer with the values, timed end to end.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/inference.grpc.pb.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "tools/bench/inference_bench_phases.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWidth = 50;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The two sides of the comparison, each answering `keys` and saying what went wrong ("" if
// nothing), with answers checked against `expected` (one output per entity, by key index).
class EntityCalls {
 public:
  EntityCalls(const InferenceStack& stack, std::vector<std::string> keys,
              std::vector<float> expected)
      : security_(stack.security()),
        predict_(
            v1::EntityInference::NewStub(stack.security().Channel(stack.inference().target()))),
        oip_(::inference::GRPCInferenceService::NewStub(
            stack.security().Channel(stack.inference().target()))),
        features_(v1::FeatureStore::NewStub(stack.security().Channel(stack.features().target()))),
        keys_(std::move(keys)),
        expected_(std::move(expected)) {}

  // Predict for keys [first, first + n).
  std::string Predict(size_t first, int n, bool check) {
    v1::PredictRequest request;
    request.mutable_model()->set_model(kKeyedModel);
    request.set_skip_logging(true);
    v1::EntityKeys* keys = request.add_entity_keys();
    keys->set_entity(kEntity);
    for (int i = 0; i < n; ++i) keys->add_keys(keys_[first + i]);
    v1::PredictResponse response;
    const grpc::Status status =
        predict_->Predict(security_.Context(absl::Seconds(10)).get(), request, &response);
    if (!status.ok()) return absl::StrCat("Predict: ", status.error_message());
    if (!check) return "";
    if (response.predictions_size() != n) {
      return absl::StrCat("Predict answered ", response.predictions_size(), " rows for ", n);
    }
    for (int i = 0; i < n; ++i) {
      const v1::EntityPrediction& p = response.predictions(i);
      if (p.outputs_size() != 1 || p.outputs(0).values_size() != 1 ||
          !(std::abs(p.outputs(0).values(0) - expected_[first + i]) <= 1e-5)) {
        return absl::StrCat("Predict's answer for ", keys_[first + i], " is not the in-process ",
                            expected_[first + i]);
      }
    }
    return "";
  }

  // LookupOnline for keys [first, first + n), then ModelInfer with the values.
  std::string LookupThenInfer(size_t first, int n, bool check) {
    v1::LookupOnlineRequest lookup;
    for (int f = 0; f < kWidth; ++f) {
      v1::FeatureRef* feature = lookup.add_features();
      feature->set_group(kGroup);
      feature->set_feature(absl::StrCat("f", f));
    }
    v1::EntityKeys* keys = lookup.add_entity_keys();
    keys->set_entity(kEntity);
    for (int i = 0; i < n; ++i) keys->add_keys(keys_[first + i]);
    v1::LookupOnlineResponse values;
    grpc::Status status =
        features_->LookupOnline(security_.Context(absl::Seconds(10)).get(), lookup, &values);
    if (!status.ok()) return absl::StrCat("LookupOnline: ", status.error_message());
    if (values.columns_size() != kWidth) return "LookupOnline answered too few columns";
    ::inference::ModelInferRequest infer;
    infer.set_model_name(kKeyedModel);
    for (int f = 0; f < kWidth; ++f) {
      const auto& column = values.columns(f).values().float_values().values();
      if (column.size() != n) return "LookupOnline answered too few rows";
      auto* input = infer.add_inputs();
      input->set_name(absl::StrCat("f", f));
      input->set_datatype("FP32");
      input->add_shape(n);
      input->add_shape(1);
      infer.add_raw_input_contents(
          std::string(reinterpret_cast<const char*>(column.data()), n * sizeof(float)));
    }
    ::inference::ModelInferResponse response;
    status = oip_->ModelInfer(security_.Context(absl::Seconds(10)).get(), infer, &response);
    if (!status.ok()) return absl::StrCat("ModelInfer: ", status.error_message());
    if (!check) return "";
    return CompareOutputs(response, &expected_[first], n, 1);
  }

 private:
  const Security& security_;
  std::unique_ptr<v1::EntityInference::Stub> predict_;
  std::unique_ptr<::inference::GRPCInferenceService::Stub> oip_;
  std::unique_ptr<v1::FeatureStore::Stub> features_;
  std::vector<std::string> keys_;
  std::vector<float> expected_;
};

// One repeat at `n` entities per call: milliseconds of each timed Predict and of each
// LookupOnline + ModelInfer, on the same random entities, after a few untimed calls. Every answer
// is checked in --small, every 25th otherwise, by a second call outside the timed ones.
struct Timings {
  std::vector<double> predict_ms;
  std::vector<double> two_calls_ms;
};

Timings TimeBothSides(Bench& bench, EntityCalls& calls, int n, std::mt19937& rng) {
  const BenchFlags& flags = bench.flags;
  std::uniform_int_distribution<size_t> first(0, flags.entities - n);
  const int warmup = flags.small ? 5 : 50;
  Timings timings;
  for (int i = 0; i < warmup + flags.entity_calls; ++i) {
    const size_t at = first(rng);
    const bool check = flags.small || i % 25 == 0;
    auto start = Clock::now();
    std::string problem = calls.Predict(at, n, false);
    const double predict = MillisSince(start);
    if (problem.empty() && check) problem = calls.Predict(at, n, true);
    start = Clock::now();
    std::string other = calls.LookupThenInfer(at, n, false);
    const double two_calls = MillisSince(start);
    if (other.empty() && check) other = calls.LookupThenInfer(at, n, true);
    if (!problem.empty() || !other.empty()) {
      bench.Require(false, absl::StrCat("entity phase, ", n, " entities: ", problem, " ", other));
      break;
    }
    if (i >= warmup) {
      timings.predict_ms.push_back(predict);
      timings.two_calls_ms.push_back(two_calls);
    }
  }
  return timings;
}

}  // namespace

void RunEntity(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  const ServedModel& tabular = bench.models.at("tabular50");
  // The entities' features, and what tabular50's version 1 answers for them in this process.
  std::vector<std::string> keys;
  serving::TensorBatch rows = RandomRows(tabular.shape, flags.entities, 5);
  for (int e = 0; e < flags.entities; ++e) keys.push_back(absl::StrCat("c", e));
  const auto ingest_start = Clock::now();
  bench.stack->IngestGroup(kEntity, kGroup, kWidth, keys, rows.tensors[0].fp32);
  std::printf("\nEntity-keyed: %d entities x %d float features ingested in %.2f s\n",
              flags.entities, kWidth, MillisSince(ingest_start) / 1000);
  absl::StatusOr<serving::TensorBatch> expected = tabular.local.at(1)->Forward(rows);
  CheckOk(expected.status(), "scoring the entities in this process");
  EntityCalls calls(*bench.stack, keys, expected->tensors[0].fp32);
  std::mt19937 rng(9);
  for (int n : {1, 100}) {
    std::vector<double> predict_p50, predict_p99, two_p50, two_p99;
    for (int r = 0; r < flags.repeats; ++r) {
      const Timings t = TimeBothSides(bench, calls, n, rng);
      predict_p50.push_back(Percentile(t.predict_ms, 50));
      predict_p99.push_back(Percentile(t.predict_ms, 99));
      two_p50.push_back(Percentile(t.two_calls_ms, 50));
      two_p99.push_back(Percentile(t.two_calls_ms, 99));
      std::printf(
          "  repeat %d, %3d entities: Predict p50 %.3f ms p99 %.3f ms; LookupOnline + "
          "ModelInfer p50 %.3f ms p99 %.3f ms\n",
          r + 1, n, predict_p50.back(), predict_p99.back(), two_p50.back(), two_p99.back());
    }
    const std::string label =
        n == 1 ? "entity: Predict, 1 entity" : absl::StrCat("entity: Predict, ", n, " entities");
    for (auto [p, ours, theirs] : {std::make_tuple("p50", Median(predict_p50), Median(two_p50)),
                                   std::make_tuple("p99", Median(predict_p99), Median(two_p99))}) {
      bench.summary.push_back({absl::StrCat(label, " ", p, " (ms)"), ours, theirs,
                               "LookupOnline + ModelInfer", "< 1x", ours < theirs});
    }
  }
}

}  // namespace fabrique::bench
