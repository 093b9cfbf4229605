// Training on data no one tuned for: logistic regression recovers the coefficients of the model
// that drew the labels; an MLP beats it clearly on a non-linear task; the same seed gives the
// same metrics; the exported TorchScript module reproduces the training-side predictions from
// raw values (missing ones and unseen categories included); multi-class and regression work;
// the throughput reported is each epoch's own, and never negative when the clock is set back; and
// the failures say what happened (empty split, no GPU, divergence, cancellation).

#include "libs/training/tabular_trainer.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/training/cpu_mlp.h"
#include "libs/training/evaluation.h"

namespace fabrique::training {
namespace {

RawColumn Numeric(const std::string& name, std::vector<float> values) {
  RawColumn column;
  column.name = name;
  column.numeric = std::move(values);
  return column;
}

// `rows` rows of `features` standard normal inputs, labelled by `label(x)`.
LabeledTable Draw(int64_t rows, int features, uint32_t seed,
                  const std::function<double(const std::vector<float>&, std::mt19937&)>& label) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  LabeledTable table;
  table.features.rows = rows;
  std::vector<std::vector<float>> columns(features);
  std::vector<float> x(features);
  for (int64_t i = 0; i < rows; ++i) {
    for (int f = 0; f < features; ++f) columns[f].push_back(x[f] = normal(rng));
    table.labels.push_back(label(x, rng));
  }
  for (int f = 0; f < features; ++f) {
    table.features.columns.push_back(Numeric(absl::StrCat("x", f), std::move(columns[f])));
  }
  return table;
}

double Logit(double p) { return std::log(p / (1 - p)); }

TrainConfig Linear(v1::Task task = v1::TASK_BINARY_CLASSIFICATION) {
  TrainConfig config;
  config.task = task;
  config.family.mutable_linear();
  config.optimizer.set_learning_rate(0.05);
  config.epochs = 20;
  config.batch_size = 256;
  config.seed = 7;
  config.device = v1::DEVICE_CPU;
  config.threads = 1;
  return config;
}

TrainConfig Mlp(v1::Task task = v1::TASK_BINARY_CLASSIFICATION) {
  TrainConfig config = Linear(task);
  config.family.mutable_mlp()->add_hidden_sizes(32);
  config.family.mutable_mlp()->add_hidden_sizes(16);
  config.family.mutable_mlp()->set_activation(v1::ACTIVATION_RELU);
  config.optimizer.set_learning_rate(0.01);
  config.epochs = 30;
  return config;
}

double Metric(const TrainResult& result, const std::string& name) {
  const v1::Metric* metric = FindMetric(result.validation_metrics, name);
  REQUIRE(metric != nullptr);
  return metric->value();
}

TEST_CASE("Logistic regression recovers the coefficients that drew the labels", "[training]") {
  const std::vector<double> w = {1.5, -2.0, 0.5};
  const double b = 0.3;
  const auto label = [&](const std::vector<float>& x, std::mt19937& rng) {
    double z = b;
    for (size_t k = 0; k < w.size(); ++k) z += w[k] * x[k];
    return std::bernoulli_distribution(1 / (1 + std::exp(-z)))(rng) ? 1.0 : 0.0;
  };
  const LabeledTable train = Draw(20000, 3, 1, label);
  const LabeledTable validation = Draw(5000, 3, 2, label);
  absl::StatusOr<TrainResult> result = TrainTabular(train, validation, Linear());
  REQUIRE(result.ok());
  // The module takes raw inputs: the logit's slope along each axis is the coefficient, and its
  // value at 0 the intercept, whatever the standardisation inside.
  RawTable probes;
  probes.rows = 4;
  for (int f = 0; f < 3; ++f) {
    std::vector<float> values(4, 0.0f);
    values[f + 1] = 1.0f;
    probes.columns.push_back(Numeric(absl::StrCat("x", f), values));
  }
  absl::StatusOr<std::vector<double>> p = PredictTorchScript(result->torchscript, probes);
  REQUIRE(p.ok());
  constexpr double kTolerance = 0.15;  // About 4 standard errors at 20,000 rows.
  CHECK(Logit((*p)[0]) == Approx(b).margin(kTolerance));
  for (int f = 0; f < 3; ++f) {
    INFO("coefficient " << f);
    CHECK(Logit((*p)[f + 1]) - Logit((*p)[0]) == Approx(w[f]).margin(kTolerance));
  }
  CHECK(Metric(*result, "auc") > 0.8);
  CHECK(FindMetric(result->validation_metrics, "auc")->baseline().value() == 0.5);
}

TEST_CASE("An MLP beats logistic regression clearly on a non-linear task", "[training]") {
  // Inside or outside a circle: no straight line separates it.
  const auto label = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] * x[0] + x[1] * x[1] < 1.4 ? 1.0 : 0.0;
  };
  const LabeledTable train = Draw(8000, 2, 3, label);
  const LabeledTable validation = Draw(2000, 2, 4, label);
  absl::StatusOr<TrainResult> linear = TrainTabular(train, validation, Linear());
  absl::StatusOr<TrainResult> mlp = TrainTabular(train, validation, Mlp());
  REQUIRE(linear.ok());
  REQUIRE(mlp.ok());
  WARN("auc: linear " << Metric(*linear, "auc") << ", mlp " << Metric(*mlp, "auc"));
  CHECK(Metric(*linear, "auc") < 0.65);
  CHECK(Metric(*mlp, "auc") > 0.97);
  CHECK(Metric(*mlp, "accuracy") > Metric(*linear, "accuracy") + 0.3);
}

TEST_CASE("The same seed gives the same metrics and the same module", "[training]") {
  const auto label = [](const std::vector<float>& x, std::mt19937& rng) {
    return std::bernoulli_distribution(x[0] > x[1] ? 0.8 : 0.2)(rng) ? 1.0 : 0.0;
  };
  const LabeledTable train = Draw(3000, 4, 5, label);
  const LabeledTable validation = Draw(1000, 4, 6, label);
  TrainConfig config = Mlp();
  config.family.mutable_mlp()->set_dropout(0.2);  // Dropout draws from the seed too.
  config.epochs = 5;
  absl::StatusOr<TrainResult> a = TrainTabular(train, validation, config);
  absl::StatusOr<TrainResult> b = TrainTabular(train, validation, config);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->validation_metrics.size() == b->validation_metrics.size());
  for (size_t m = 0; m < a->validation_metrics.size(); ++m) {
    CHECK(a->validation_metrics[m].value() == b->validation_metrics[m].value());
  }
  CHECK(a->validation_predictions == b->validation_predictions);
  config.seed = 8;
  absl::StatusOr<TrainResult> other = TrainTabular(train, validation, config);
  REQUIRE(other.ok());
  CHECK(other->validation_predictions != a->validation_predictions);
}

TEST_CASE("The CPU engine trains as LibTorch's autograd does", "[training]") {
  // Same initial weights, same batches: every epoch's losses and the kept model's predictions
  // agree to float rounding, for each task, loss, activation, optimiser and class weighting.
  const auto label = [](const std::vector<float>& x, std::mt19937& rng) {
    return std::bernoulli_distribution(x[0] * x[1] > 0 ? 0.85 : 0.2)(rng) ? 1.0 : 0.0;
  };
  const auto three_classes = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] + 0.5 * x[2] > 0.5 ? 2.0 : (x[1] > 0 ? 1.0 : 0.0);
  };
  const auto value = [](const std::vector<float>& x, std::mt19937& rng) {
    return 3 * x[0] - x[1] * x[2] + std::normal_distribution<double>(0, 0.5)(rng) + 10;
  };
  struct Case {
    std::string name;
    v1::Task task;
    std::function<double(const std::vector<float>&, std::mt19937&)> label;
    std::function<void(TrainConfig&)> adjust;
  };
  const std::vector<Case> cases = {
      {"binary, relu, Adam", v1::TASK_BINARY_CLASSIFICATION, label, [](TrainConfig&) {}},
      {"binary, balanced, tanh, SGD with momentum and weight decay", v1::TASK_BINARY_CLASSIFICATION,
       label,
       [](TrainConfig& c) {
         c.balance_classes = true;
         c.family.mutable_mlp()->set_activation(v1::ACTIVATION_TANH);
         c.optimizer.set_kind(v1::OPTIMIZER_KIND_SGD);
         c.optimizer.set_momentum(0.9);
         c.optimizer.set_weight_decay(1e-3);
       }},
      {"multi-class, class weights, gelu", v1::TASK_MULTICLASS_CLASSIFICATION, three_classes,
       [](TrainConfig& c) {
         c.class_weights = {1.0, 2.0, 0.5};
         c.family.mutable_mlp()->set_activation(v1::ACTIVATION_GELU);
       }},
      {"regression, squared error, sigmoid", v1::TASK_REGRESSION, value,
       [](TrainConfig& c) { c.family.mutable_mlp()->set_activation(v1::ACTIVATION_SIGMOID); }},
      {"regression, Huber", v1::TASK_REGRESSION, value,
       [](TrainConfig& c) { c.loss = v1::LOSS_FUNCTION_HUBER; }},
      {"regression, absolute error, linear", v1::TASK_REGRESSION, value,
       [](TrainConfig& c) {
         c.loss = v1::LOSS_FUNCTION_MAE;
         c.family.mutable_linear();
       }},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const LabeledTable train = Draw(1500, 3, 21, c.label);
      const LabeledTable validation = Draw(500, 3, 22, c.label);
      TrainConfig config = Mlp(c.task);
      config.epochs = 4;
      config.batch_size = 100;
      c.adjust(config);
      const auto run = [&](TrainConfig::Engine engine, std::vector<double>* losses) {
        TrainConfig with = config;
        with.engine = engine;
        absl::StatusOr<TrainResult> result =
            TrainTabular(train, validation, with, [&](const TrainProgress& p) {
              if (p.epoch_end) {
                losses->push_back(p.train_loss);
                losses->push_back(p.validation_loss);
              }
            });
        REQUIRE(result.ok());
        return *result;
      };
      std::vector<double> ours, torch_losses;
      const TrainResult cpu = run(TrainConfig::Engine::kAuto, &ours);
      const TrainResult reference = run(TrainConfig::Engine::kLibTorch, &torch_losses);
      // Without oneDNN in the build, both are LibTorch's (and agree trivially).
      CHECK(cpu.engine == (CpuMlp::Available() ? "cpu-mlp (oneDNN)" : "libtorch"));
      CHECK(reference.engine == "libtorch");
      REQUIRE(ours.size() == torch_losses.size());
      for (size_t i = 0; i < ours.size(); ++i) {
        INFO("epoch " << i / 2 + 1 << (i % 2 == 0 ? " train" : " validation") << " loss");
        CHECK(ours[i] == Approx(torch_losses[i]).epsilon(1e-3));
      }
      REQUIRE(cpu.validation_predictions.size() == reference.validation_predictions.size());
      double largest = 0;
      for (size_t i = 0; i < cpu.validation_predictions.size(); ++i) {
        largest = std::max(
            largest, std::abs(cpu.validation_predictions[i] - reference.validation_predictions[i]));
      }
      CHECK(largest < (c.task == v1::TASK_REGRESSION ? 1e-2 : 1e-3));
    }
  }
}

TEST_CASE("The exported module reproduces training's predictions from raw values", "[training]") {
  // A numeric feature with missing values, a float vector, and a categorical feature.
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0, 1);
  const std::vector<std::string> colours = {"red", "green", "blue"};
  const auto make = [&](int64_t rows) {
    LabeledTable table;
    table.features.rows = rows;
    RawColumn amount = Numeric("amount", {});
    RawColumn vector = Numeric("embedding", {});
    vector.width = 2;
    RawColumn colour;
    colour.name = "colour";
    colour.categorical = true;
    for (int64_t i = 0; i < rows; ++i) {
      const float a = normal(rng) * 10 + 50;
      const bool missing = i % 7 == 0;
      amount.numeric.push_back(missing ? NAN : a);
      const float e0 = normal(rng), e1 = normal(rng);
      vector.numeric.push_back(e0);
      vector.numeric.push_back(e1);
      const int c = static_cast<int>(i % 3);
      colour.strings.push_back(i % 11 == 0 ? "" : colours[c]);
      const double z = (a - 50) / 10 + e0 - e1 + (c == 0 ? 1.0 : -0.5) + (missing ? 1.0 : 0.0);
      table.labels.push_back(std::bernoulli_distribution(1 / (1 + std::exp(-z)))(rng) ? 1 : 0);
    }
    table.features.columns = {amount, vector, colour};
    return table;
  };
  const LabeledTable train = make(4000);
  LabeledTable validation = make(500);
  validation.features.columns[2].strings[1] = "purple";  // Never seen in training.
  absl::StatusOr<TrainResult> result = TrainTabular(train, validation, Mlp());
  REQUIRE(result.ok());
  CHECK(result->preprocessing.numeric[0].missing_indicator);
  CHECK_FALSE(result->preprocessing.numeric[1].missing_indicator);
  CHECK(result->preprocessing.categorical[0].vocabulary.size() == 3);
  absl::StatusOr<std::vector<double>> served =
      PredictTorchScript(result->torchscript, validation.features);
  REQUIRE(served.ok());
  REQUIRE(served->size() == result->validation_predictions.size());
  for (size_t i = 0; i < served->size(); ++i) {
    INFO("row " << i);
    CHECK((*served)[i] == Approx(result->validation_predictions[i]).margin(1e-5));
  }
  CHECK(Metric(*result, "auc") > 0.75);
  CHECK(PredictTorchScript("not a module", validation.features).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Multi-class and regression train and export", "[training]") {
  // Three classes by the sign pattern of two inputs.
  const auto klass = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] < -0.4 ? 0.0 : (x[1] < 0 ? 1.0 : 2.0);
  };
  absl::StatusOr<TrainResult> multi = TrainTabular(
      Draw(6000, 2, 10, klass), Draw(1500, 2, 11, klass), Mlp(v1::TASK_MULTICLASS_CLASSIFICATION));
  REQUIRE(multi.ok());
  CHECK(multi->num_classes == 3);
  CHECK(Metric(*multi, "accuracy") > 0.93);
  CHECK(FindMetric(multi->validation_metrics, "accuracy")->baseline().value() < 0.5);
  double row_sum = 0;
  for (int c = 0; c < 3; ++c) row_sum += multi->validation_predictions[c];
  CHECK(row_sum == Approx(1.0));

  // y = 3 x0 - 2 x1 + 100, on a scale far from the inputs': standardised inside, not outside.
  const auto target = [](const std::vector<float>& x, std::mt19937& rng) {
    return 3.0 * x[0] - 2.0 * x[1] + 100 + std::normal_distribution<double>(0, 0.1)(rng);
  };
  const LabeledTable validation = Draw(1000, 2, 13, target);
  absl::StatusOr<TrainResult> regression =
      TrainTabular(Draw(5000, 2, 12, target), validation, Linear(v1::TASK_REGRESSION));
  REQUIRE(regression.ok());
  CHECK(Metric(*regression, "r2") > 0.99);
  CHECK(Metric(*regression, "rmse") < 0.3);
  absl::StatusOr<std::vector<double>> served =
      PredictTorchScript(regression->torchscript, validation.features);
  REQUIRE(served.ok());
  CHECK((*served)[0] == Approx(validation.labels[0]).margin(0.5));
}

TEST_CASE("Failures say what happened", "[training]") {
  const auto label = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] > 0 ? 1.0 : 0.0;
  };
  const LabeledTable train = Draw(2000, 2, 14, label);
  const LabeledTable validation = Draw(500, 2, 15, label);

  LabeledTable empty = train;
  empty.features = train.features.Take({});
  empty.labels.clear();
  CHECK(TrainTabular(empty, validation, Linear()).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  if (!CudaAvailable()) {
    TrainConfig cuda = Linear();
    cuda.device = v1::DEVICE_CUDA;
    const absl::Status status = TrainTabular(train, validation, cuda).status();
    CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(status.message(), "no CUDA device"));
  }

  TrainConfig wild = Linear(v1::TASK_REGRESSION);
  wild.optimizer.set_kind(v1::OPTIMIZER_KIND_SGD);
  wild.optimizer.set_learning_rate(1e30);
  const absl::Status diverged = TrainTabular(train, validation, wild).status();
  CHECK(diverged.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(diverged.message(), "diverged at epoch 1"));
  CHECK(absl::StrContains(diverged.message(), "lower the learning rate"));

  std::atomic<bool> cancel{false};
  int batches = 0;
  const absl::Status cancelled = TrainTabular(
                                     train, validation, Linear(),
                                     [&](const TrainProgress&) {
                                       if (++batches == 3) cancel = true;
                                     },
                                     &cancel)
                                     .status();
  CHECK(cancelled.code() == absl::StatusCode::kCancelled);
  CHECK(batches == 3);  // Stopped within one batch.

  LabeledTable bad_label = train;
  bad_label.labels[0] = 0.5;
  CHECK(TrainTabular(bad_label, validation, Linear()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  TrainConfig zero_batch = Linear();
  zero_batch.batch_size = 0;
  CHECK(TrainTabular(train, validation, zero_batch).status().code() ==
        absl::StatusCode::kInvalidArgument);
  TrainConfig weighted_regression = Linear(v1::TASK_REGRESSION);
  weighted_regression.class_weights = {2.0};
  const absl::Status weighted = TrainTabular(train, validation, weighted_regression).status();
  CHECK(weighted.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(weighted.message(), "classification"));
  // Every row weighing nothing leaves no loss to learn from: as in LibTorch's cross-entropy,
  // whose weighted mean divides by the weights' sum, a NaN loss.
  TrainConfig weightless = Linear(v1::TASK_MULTICLASS_CLASSIFICATION);
  weightless.class_weights = {0.0, 0.0};
  CHECK(absl::StrContains(TrainTabular(train, validation, weightless).status().message(),
                          "diverged at epoch 1"));
}

// A clock that each reading moves on: by `first_step` for the first `first_reads` readings (an
// epoch's one-off costs: oneDNN generating its kernels, threads starting), by 1 ms after them,
// except that reading `jump_at` (if any) moves it by `jump` instead (an NTP correction, which
// may set it back); Advance adds time between readings (a slow progress write).
class SteppingClock : public core::Clock {
 public:
  SteppingClock(int first_reads, absl::Duration first_step, int jump_at = -1,
                absl::Duration jump = absl::ZeroDuration())
      : first_reads_(first_reads), first_step_(first_step), jump_at_(jump_at), jump_(jump) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    const absl::Time now = now_;
    const int read = reads_++;
    now_ += read == jump_at_ ? jump_ : read < first_reads_ ? first_step_ : absl::Milliseconds(1);
    return now;
  }
  void Advance(absl::Duration delta) {
    absl::MutexLock lock(&mu_);
    now_ += delta;
  }

 private:
  const int first_reads_;
  const absl::Duration first_step_;
  const int jump_at_;
  const absl::Duration jump_;
  mutable absl::Mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'700'000'000);
  mutable int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_CASE("Samples per second is each epoch's own rate, not counting the progress callback",
          "[training]") {
  const auto label = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] > 0 ? 1.0 : 0.0;
  };
  SteppingClock clock(/*first_reads=*/6, /*first_step=*/absl::Milliseconds(50));
  TrainConfig config = Linear();
  config.epochs = 4;
  config.batch_size = 64;  // 8 batches of 512 rows.
  config.clock = &clock;
  std::vector<double> epoch_rates;
  absl::StatusOr<TrainResult> result = TrainTabular(Draw(512, 2, 3, label), Draw(128, 2, 4, label),
                                                    config, [&](const TrainProgress& p) {
                                                      // The run's first progress write is slow, as
                                                      // a store's first write can be.
                                                      if (p.epoch == 1 && p.batch == 1)
                                                        clock.Advance(absl::Minutes(10));
                                                      if (p.epoch_end)
                                                        epoch_rates.push_back(p.samples_per_second);
                                                    });
  REQUIRE(result.ok());
  REQUIRE(epoch_rates.size() == 4);
  // Epochs after the first take the same steps on this clock, so their rates are equal: a run
  // average would grow epoch after epoch while the first epoch's costs are amortised.
  CHECK(epoch_rates[2] == Approx(epoch_rates[1]).epsilon(1e-9));
  CHECK(epoch_rates[3] == Approx(epoch_rates[1]).epsilon(1e-9));
  // The first epoch carries its own one-off costs, and only those: the ten minutes spent in the
  // callback are not training (counted, 512 rows would make under one sample a second).
  CHECK(epoch_rates[0] < epoch_rates[1] / 2);
  CHECK(epoch_rates[0] > 1000);
  // The run's figure is every sample over the steps' time, which excludes the callback too.
  CHECK(result->train_seconds < 1);
  CHECK(result->samples_per_second == Approx(4 * 512 / result->train_seconds));
  CHECK(result->samples_per_second > epoch_rates[0]);
  CHECK(result->samples_per_second < epoch_rates[1]);
}

TEST_CASE("A clock set back during training makes no time or rate negative", "[training]") {
  const auto label = [](const std::vector<float>& x, std::mt19937&) {
    return x[0] > 0 ? 1.0 : 0.0;
  };
  // 8 batches an epoch, each timed between two readings: the 20th reading is in the second.
  SteppingClock clock(/*first_reads=*/0, /*first_step=*/absl::ZeroDuration(), /*jump_at=*/20,
                      /*jump=*/-absl::Hours(1));
  TrainConfig config = Linear();
  config.epochs = 3;
  config.batch_size = 64;
  config.clock = &clock;
  std::vector<double> epoch_rates;
  absl::StatusOr<TrainResult> result = TrainTabular(Draw(512, 2, 3, label), Draw(128, 2, 4, label),
                                                    config, [&](const TrainProgress& p) {
                                                      if (p.epoch_end)
                                                        epoch_rates.push_back(p.samples_per_second);
                                                    });
  REQUIRE(result.ok());
  REQUIRE(epoch_rates.size() == 3);
  // The interval the clock went back in counts as none; every other one counts.
  for (const double rate : epoch_rates) CHECK(rate > 0);
  CHECK(result->train_seconds > 0);
  CHECK(result->train_seconds < 1);
  CHECK(result->samples_per_second > 0);
}

TEST_CASE("Progress is reported per batch and per epoch; early stopping keeps the best epoch",
          "[training]") {
  // Labels that no feature explains: validation stops improving at once.
  const auto noise = [](const std::vector<float>&, std::mt19937& rng) {
    return std::bernoulli_distribution(0.5)(rng) ? 1.0 : 0.0;
  };
  TrainConfig config = Linear();
  config.epochs = 50;
  config.early_stopping_patience = 2;
  int epoch_ends = 0;
  TrainProgress last;
  absl::StatusOr<TrainResult> result = TrainTabular(
      Draw(2000, 2, 16, noise), Draw(500, 2, 17, noise), config, [&](const TrainProgress& p) {
        epoch_ends += p.epoch_end;
        last = p;
      });
  REQUIRE(result.ok());
  CHECK(result->epochs_completed < 50);
  CHECK(result->epochs_completed == result->best_epoch + 2);
  CHECK(epoch_ends == result->epochs_completed);
  CHECK(last.epoch_end);
  CHECK(last.batches_per_epoch == 8);
  CHECK(last.samples_per_second > 0);
  CHECK(last.validation_metric.name() == "auc");
  CHECK(result->device == "cpu");
}

}  // namespace
}  // namespace fabrique::training
