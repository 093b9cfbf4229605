// The CPU training engine against first principles: its gradients match finite differences of
// its own loss for every loss, activation and class weighting; SGD (momentum, weight decay) and
// Adam move the weights by their textbook rules; dropout masks come from the seed alone; and bad
// shapes are refused. tabular_trainer_test.cc holds it to LibTorch's autograd as well.

#include "libs/training/cpu_mlp.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"

namespace fabrique::training {
namespace {

struct Problem {
  std::vector<int> sizes;
  std::vector<std::vector<float>> weights, biases;
  std::vector<float> x, y;
  std::vector<int64_t> rows;
};

Problem Draw(std::vector<int> sizes, MlpLoss loss, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  Problem p;
  p.sizes = sizes;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    std::vector<float> w(static_cast<size_t>(sizes[l]) * sizes[l + 1]), b(sizes[l + 1]);
    for (float& v : w) v = 0.7f * normal(rng);
    for (float& v : b) v = 0.3f * normal(rng);
    p.weights.push_back(w);
    p.biases.push_back(b);
  }
  p.x.resize(n * sizes[0]);
  for (float& v : p.x) v = normal(rng);
  const int classes = sizes.back();
  for (int64_t i = 0; i < n; ++i) {
    switch (loss) {
      case MlpLoss::kSoftmaxCrossEntropy:
        p.y.push_back(static_cast<float>(i % classes));
        break;
      case MlpLoss::kBinaryCrossEntropy:
        p.y.push_back(static_cast<float>(i % 2));
        break;
      default:
        p.y.push_back(2 * normal(rng));
    }
    p.rows.push_back(i);
  }
  return p;
}

std::unique_ptr<CpuMlp> Make(const CpuMlpOptions& options, const Problem& p) {
  absl::StatusOr<std::unique_ptr<CpuMlp>> mlp = CpuMlp::Create(options, p.weights, p.biases);
  REQUIRE(mlp.ok());
  return std::move(*mlp);
}

// Plain SGD at learning rate 1 moves every parameter by minus its gradient.
CpuMlpOptions GradientOptions(const Problem& p, MlpLoss loss, MlpActivation activation) {
  CpuMlpOptions options;
  options.sizes = p.sizes;
  options.loss = loss;
  options.activation = activation;
  options.adam = false;
  options.learning_rate = 1;
  options.max_batch = static_cast<int64_t>(p.rows.size());
  options.threads = 1;
  return options;
}

TEST_CASE("The engine's gradients match finite differences of its loss", "[training]") {
  REQUIRE(CpuMlp::Available());
  struct Case {
    std::string name;
    MlpLoss loss;
    int outputs;
    std::vector<float> class_weights;
  };
  const std::vector<Case> cases = {
      {"cross-entropy", MlpLoss::kSoftmaxCrossEntropy, 3, {}},
      {"weighted cross-entropy", MlpLoss::kSoftmaxCrossEntropy, 3, {0.5f, 2.0f, 1.5f}},
      {"binary cross-entropy", MlpLoss::kBinaryCrossEntropy, 1, {}},
      {"weighted binary cross-entropy", MlpLoss::kBinaryCrossEntropy, 1, {0.3f, 3.0f}},
      {"squared error", MlpLoss::kSquaredError, 1, {}},
      {"absolute error", MlpLoss::kAbsoluteError, 1, {}},
      {"huber", MlpLoss::kHuber, 1, {}},
  };
  const std::vector<std::pair<std::string, MlpActivation>> activations = {
      {"relu", MlpActivation::kRelu},
      {"tanh", MlpActivation::kTanh},
      {"sigmoid", MlpActivation::kSigmoid},
      {"gelu", MlpActivation::kGelu}};
  for (const Case& c : cases) {
    for (const auto& [activation_name, activation] : activations) {
      SECTION(c.name + ", " + activation_name) {
        const Problem p = Draw({4, 5, 3, c.outputs}, c.loss, 7, 11);
        CpuMlpOptions options = GradientOptions(p, c.loss, activation);
        options.class_weights = c.class_weights;
        // The gradient, read off one SGD step.
        std::unique_ptr<CpuMlp> stepped = Make(options, p);
        const double loss = stepped->Step(p.x.data(), p.y.data(), p.rows.data(), 7);
        CHECK(loss == Approx(Make(options, p)->Loss(p.x.data(), p.y.data(), 7)).epsilon(1e-6));
        const auto loss_at = [&](size_t layer, bool bias, size_t index, float delta) {
          Problem moved = p;
          (bias ? moved.biases : moved.weights)[layer][index] += delta;
          return Make(options, moved)->Loss(p.x.data(), p.y.data(), 7);
        };
        constexpr float h = 1e-2f;
        for (size_t l = 0; l < p.weights.size(); ++l) {
          for (bool bias : {false, true}) {
            const std::vector<float>& before = (bias ? p.biases : p.weights)[l];
            const std::vector<float>& after = (bias ? stepped->biases() : stepped->weights())[l];
            for (size_t i = 0; i < before.size(); ++i) {
              const double analytic = before[i] - after[i];
              const double numeric = (loss_at(l, bias, i, h) - loss_at(l, bias, i, -h)) / (2 * h);
              INFO("layer " << l << (bias ? " bias " : " weight ") << i);
              CHECK(analytic == Approx(numeric).margin(3e-3).epsilon(2e-2));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("SGD and Adam move the weights by their rules", "[training]") {
  const Problem p = Draw({3, 4, 1}, MlpLoss::kSquaredError, 6, 5);
  const CpuMlpOptions plain = GradientOptions(p, MlpLoss::kSquaredError, MlpActivation::kTanh);
  std::unique_ptr<CpuMlp> gradient = Make(plain, p);
  gradient->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
  const auto g = [&](size_t i) { return p.weights[0][i] - gradient->weights()[0][i]; };

  SECTION("SGD with weight decay adds decay x weight to the gradient") {
    CpuMlpOptions options = plain;
    options.learning_rate = 0.1;
    options.weight_decay = 0.5;
    std::unique_ptr<CpuMlp> mlp = Make(options, p);
    mlp->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
    for (size_t i = 0; i < p.weights[0].size(); ++i) {
      CHECK(mlp->weights()[0][i] ==
            Approx(p.weights[0][i] - 0.1 * (g(i) + 0.5 * p.weights[0][i])).margin(1e-6));
    }
  }
  SECTION("SGD with momentum carries the last step") {
    CpuMlpOptions options = plain;
    options.learning_rate = 0.1;
    options.momentum = 0.9;
    std::unique_ptr<CpuMlp> mlp = Make(options, p);
    mlp->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
    const std::vector<float> first = mlp->weights()[0];
    // The second step's gradient, at the weights after the first.
    Problem moved = p;
    moved.weights = mlp->weights();
    moved.biases = mlp->biases();
    std::unique_ptr<CpuMlp> probe = Make(plain, moved);
    probe->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
    mlp->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
    for (size_t i = 0; i < first.size(); ++i) {
      const double g2 = moved.weights[0][i] - probe->weights()[0][i];
      CHECK(mlp->weights()[0][i] == Approx(first[i] - 0.1 * (0.9 * g(i) + g2)).margin(1e-6));
    }
  }
  SECTION("Adam's first step is the learning rate against the gradient's sign") {
    CpuMlpOptions options = plain;
    options.adam = true;
    options.learning_rate = 0.01;
    std::unique_ptr<CpuMlp> mlp = Make(options, p);
    mlp->Step(p.x.data(), p.y.data(), p.rows.data(), 6);
    for (size_t i = 0; i < p.weights[0].size(); ++i) {
      const double expected = p.weights[0][i] - 0.01 * g(i) / (std::abs(g(i)) + 1e-8);
      CHECK(mlp->weights()[0][i] == Approx(expected).margin(1e-6));
    }
  }
}

TEST_CASE("Dropout masks come from the seed alone", "[training]") {
  // 1,024 rows of 32 units: past the size where the loops split between threads.
  constexpr int64_t kRows = 1024;
  const Problem p = Draw({6, 32, 32, 3}, MlpLoss::kSoftmaxCrossEntropy, kRows, 9);
  CpuMlpOptions options;
  options.sizes = p.sizes;
  options.dropout = 0.5;
  options.max_batch = kRows;
  options.seed = 3;
  const auto trained = [&](const CpuMlpOptions& o) {
    std::unique_ptr<CpuMlp> mlp = Make(o, p);
    std::vector<double> losses;
    for (int s = 0; s < 5; ++s)
      losses.push_back(mlp->Step(p.x.data(), p.y.data(), p.rows.data(), kRows));
    return std::make_pair(losses, mlp->weights());
  };
  const auto a = trained(options);
  CHECK(a == trained(options));
  CpuMlpOptions other_seed = options;
  other_seed.seed = 4;
  CHECK(a.first != trained(other_seed).first);
  CpuMlpOptions two_threads = options;
  two_threads.threads = 2;
  options.threads = 1;
  // The masks do not depend on how the rows are split between threads.
  CHECK(trained(options).first.front() == Approx(trained(two_threads).first.front()).epsilon(1e-5));
  // Without dropout the first loss is the plain loss; with it, the kept half is scaled up.
  CpuMlpOptions none = options;
  none.dropout = 0;
  CHECK(trained(none).first.front() ==
        Approx(Make(none, p)->Loss(p.x.data(), p.y.data(), kRows)).epsilon(1e-6));
  CHECK(a.first.front() != Approx(trained(none).first.front()).epsilon(1e-4));
  // Evaluation ignores dropout.
  std::unique_ptr<CpuMlp> mlp = Make(options, p);
  CHECK(mlp->Loss(p.x.data(), p.y.data(), kRows) ==
        Approx(Make(none, p)->Loss(p.x.data(), p.y.data(), kRows)).epsilon(1e-6));
}

TEST_CASE("Predictions run in chunks of the largest batch", "[training]") {
  const Problem p = Draw({5, 8, 2}, MlpLoss::kSoftmaxCrossEntropy, 50, 2);
  CpuMlpOptions small;
  small.sizes = p.sizes;
  small.max_batch = 7;
  CpuMlpOptions whole = small;
  whole.max_batch = 50;
  std::vector<float> a(100), b(100);
  Make(small, p)->Predict(p.x.data(), 50, a.data());
  Make(whole, p)->Predict(p.x.data(), 50, b.data());
  for (int i = 0; i < 100; ++i) CHECK(a[i] == Approx(b[i]).margin(1e-5));
  CHECK(Make(small, p)->Loss(p.x.data(), p.y.data(), 50) ==
        Approx(Make(whole, p)->Loss(p.x.data(), p.y.data(), 50)).epsilon(1e-5));
}

TEST_CASE("A batch whose rows all weigh nothing is NaN, as in LibTorch, and changes nothing",
          "[training]") {
  const Problem p = Draw({3, 4, 2}, MlpLoss::kSoftmaxCrossEntropy, 4, 1);
  CpuMlpOptions options;
  options.sizes = p.sizes;
  options.class_weights = {0.0f, 0.0f};
  std::unique_ptr<CpuMlp> mlp = Make(options, p);
  CHECK(std::isnan(mlp->Step(p.x.data(), p.y.data(), p.rows.data(), 4)));
  CHECK(mlp->weights() == p.weights);
  CHECK(std::isnan(mlp->Loss(p.x.data(), p.y.data(), 4)));
}

TEST_CASE("Bad shapes and options are refused", "[training]") {
  const Problem p = Draw({3, 4, 2}, MlpLoss::kSoftmaxCrossEntropy, 4, 1);
  CpuMlpOptions options;
  options.sizes = p.sizes;
  const auto refusal = [&](const CpuMlpOptions& o, std::vector<std::vector<float>> w,
                           std::vector<std::vector<float>> b) {
    absl::StatusOr<std::unique_ptr<CpuMlp>> mlp = CpuMlp::Create(o, std::move(w), std::move(b));
    REQUIRE(!mlp.ok());
    CHECK(mlp.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(mlp.status().message());
  };
  CHECK(absl::StrContains(refusal(options, {p.weights[0]}, {p.biases[0]}), "2 layers"));
  std::vector<std::vector<float>> wrong = p.weights;
  wrong[1].pop_back();
  CHECK(absl::StrContains(refusal(options, wrong, p.biases), "layer 1 is not 2 x 4"));
  CpuMlpOptions dropout = options;
  dropout.dropout = 1;
  CHECK(absl::StrContains(refusal(dropout, p.weights, p.biases), "[0, 1)"));
  CpuMlpOptions binary = options;
  binary.loss = MlpLoss::kBinaryCrossEntropy;
  CHECK(absl::StrContains(refusal(binary, p.weights, p.biases), "one output"));
  CpuMlpOptions single = options;
  single.sizes = {3};
  CHECK(absl::StrContains(refusal(single, {}, {}), "inputs and outputs"));
}

}  // namespace
}  // namespace fabrique::training
