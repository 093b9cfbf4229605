// Epoch checkpoints: a training stopped after some epochs and resumed from its last checkpoint
// ends with the very model an uninterrupted training of the same seed makes (bit for bit, on
// the CPU engine and on LibTorch's, with dropout), a checkpoint taken as early stopping ended
// the training resumes into no further epoch, a foreign checkpoint is refused with
// INVALID_ARGUMENT, and the checkpoint folder keeps the latest epoch only, under a safe name.

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/training/checkpoint_store.h"
#include "libs/training/tabular_trainer.h"
#include "tests/util/test_util.h"

namespace fabrique::training {
namespace {

// Rows of two standard normal features, labelled 1 when x0 * x1 > 0 (a task an MLP needs).
LabeledTable Draw(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  LabeledTable table;
  table.features.rows = rows;
  RawColumn x0, x1;
  x0.name = "x0";
  x1.name = "x1";
  for (int64_t i = 0; i < rows; ++i) {
    x0.numeric.push_back(normal(rng));
    x1.numeric.push_back(normal(rng));
    table.labels.push_back(x0.numeric.back() * x1.numeric.back() > 0 ? 1 : 0);
  }
  table.features.columns = {x0, x1};
  return table;
}

TrainConfig Config(TrainConfig::Engine engine, double dropout) {
  TrainConfig config;
  config.task = v1::TASK_BINARY_CLASSIFICATION;
  config.family.mutable_mlp()->add_hidden_sizes(16);
  config.family.mutable_mlp()->set_dropout(dropout);
  config.optimizer.set_learning_rate(0.01);
  config.epochs = 6;
  config.batch_size = 64;
  config.seed = 11;
  config.device = v1::DEVICE_CPU;
  config.threads = 1;
  config.engine = engine;
  return config;
}

// Trains with checkpoints kept in `saved` (epoch -> bytes); stops (cancels) at the first batch
// of epoch `stop_at` when given.
absl::StatusOr<TrainResult> Train(const TrainConfig& config, std::map<int, std::string>& saved,
                                  const std::string& resume = "", int stop_at = 0) {
  static const LabeledTable train = Draw(1200, 1), validation = Draw(300, 2);
  std::atomic<bool> cancel{false};
  Checkpointing checkpoints;
  checkpoints.resume = resume;
  checkpoints.save = [&saved](int epoch, std::string bytes) {
    saved[epoch] = std::move(bytes);
    return absl::OkStatus();
  };
  return TrainTabular(
      train, validation, config,
      [&](const TrainProgress& p) {
        if (stop_at > 0 && p.epoch == stop_at) cancel = true;
      },
      &cancel, &checkpoints);
}

void CheckResumeIsExact(TrainConfig::Engine engine, double dropout) {
  const TrainConfig config = Config(engine, dropout);
  std::map<int, std::string> whole, first_part, second_part;
  absl::StatusOr<TrainResult> uninterrupted = Train(config, whole);
  REQUIRE(uninterrupted.ok());
  CHECK(whole.size() == 6);

  // Stopped during epoch 4: epochs 1-3 were checkpointed.
  absl::StatusOr<TrainResult> stopped = Train(config, first_part, "", /*stop_at=*/4);
  REQUIRE(absl::IsCancelled(stopped.status()));
  REQUIRE(first_part.size() == 3);

  absl::StatusOr<TrainResult> resumed = Train(config, second_part, first_part.at(3));
  INFO(resumed.status().ToString());
  REQUIRE(resumed.ok());
  CHECK(second_part.size() == 3);  // Epochs 4-6 only.
  CHECK(second_part.begin()->first == 4);
  CHECK(resumed->epochs_completed == uninterrupted->epochs_completed);
  CHECK(resumed->best_epoch == uninterrupted->best_epoch);
  CHECK(resumed->validation_predictions == uninterrupted->validation_predictions);
  CHECK(resumed->objective_value == uninterrupted->objective_value);
  // The exported module holds the same weights, byte for byte.
  CHECK(resumed->torchscript.size() == uninterrupted->torchscript.size());
}

TEST_CASE("a training resumed from its epoch checkpoint ends as the uninterrupted one") {
  SECTION("the CPU engine (LibTorch's where this build has no oneDNN)") {
    CheckResumeIsExact(TrainConfig::Engine::kAuto, 0.0);
  }
  SECTION("LibTorch's autograd, with dropout drawn from the shared generator") {
    CheckResumeIsExact(TrainConfig::Engine::kLibTorch, 0.2);
  }
}

TEST_CASE("a checkpoint taken as early stopping ended resumes into no further epoch") {
  TrainConfig config = Config(TrainConfig::Engine::kAuto, 0.0);
  config.epochs = 200;
  config.optimizer.set_learning_rate(0.05);
  config.early_stopping_patience = 2;
  std::map<int, std::string> saved, after;
  absl::StatusOr<TrainResult> trained = Train(config, saved);
  REQUIRE(trained.ok());
  REQUIRE(trained->epochs_completed < 200);
  absl::StatusOr<TrainResult> resumed = Train(config, after, saved.rbegin()->second);
  REQUIRE(resumed.ok());
  CHECK(after.empty());
  CHECK(resumed->epochs_completed == trained->epochs_completed);
  CHECK(resumed->validation_predictions == trained->validation_predictions);
}

TEST_CASE("a checkpoint of something else is refused") {
  const TrainConfig config = Config(TrainConfig::Engine::kAuto, 0.0);
  std::map<int, std::string> saved;
  SECTION("not a checkpoint") {
    absl::StatusOr<TrainResult> resumed = Train(config, saved, "garbage");
    CHECK(resumed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("one of another network") {
    REQUIRE(Train(config, saved).ok());
    TrainConfig wider = config;
    wider.family.mutable_mlp()->set_hidden_sizes(0, 32);
    std::map<int, std::string> unused;
    absl::StatusOr<TrainResult> resumed = Train(wider, unused, saved.at(2));
    CHECK(resumed.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("the checkpoint store keeps the latest epoch only, in a folder named safely") {
  testing::TempDir tmp;
  CheckpointStore store(tmp.path(), "../job/1");
  CHECK(store.folder() == absl::StrCat(tmp.path(), "/.._job_1"));
  CHECK(absl::IsNotFound(store.Read(1).status()));
  REQUIRE(store.Write(1, "one").ok());
  REQUIRE(store.Write(2, "two").ok());
  CHECK(absl::IsNotFound(store.Read(1).status()));
  CHECK(*store.Read(2) == "two");
  store.Clear();
  CHECK_FALSE(std::filesystem::exists(store.folder()));
}

}  // namespace
}  // namespace fabrique::training
