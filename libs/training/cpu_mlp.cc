#include "libs/training/cpu_mlp.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/training/checkpoint_bytes.h"

#if FABRIQUE_HAVE_ONEDNN
#include <dnnl.h>
#endif

namespace fabrique::training {
namespace {

// Loops shorter than this stay on one thread: waking the team costs more than it saves.
constexpr int64_t kParallelFrom = 1 << 14;

// C [m x n] = op(A) op(B), row-major; 'T' transposes. Without oneDNN it is never reached: Create
// refuses first.
void Gemm([[maybe_unused]] char trans_a, [[maybe_unused]] char trans_b, [[maybe_unused]] int64_t m,
          [[maybe_unused]] int64_t n, [[maybe_unused]] int64_t k, [[maybe_unused]] const float* a,
          [[maybe_unused]] const float* b, [[maybe_unused]] float* c) {
#if FABRIQUE_HAVE_ONEDNN
  dnnl_sgemm(trans_a, trans_b, m, n, k, 1.0f, a, trans_a == 'N' ? k : m, b, trans_b == 'N' ? n : k,
             0.0f, c, n);
#endif
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

float Sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

float Normal(float z) { return 0.3989422804014327f * std::exp(-0.5f * z * z); }

float NormalCdf(float z) { return 0.5f * (1.0f + std::erf(z * 0.7071067811865476f)); }

}  // namespace

bool CpuMlp::Available() { return FABRIQUE_HAVE_ONEDNN != 0; }

absl::StatusOr<std::unique_ptr<CpuMlp>> CpuMlp::Create(CpuMlpOptions options,
                                                       std::vector<std::vector<float>> weights,
                                                       std::vector<std::vector<float>> biases) {
  if (!Available()) {
    return absl::UnimplementedError("this build has no oneDNN: train with LibTorch instead");
  }
  const std::vector<int>& sizes = options.sizes;
  if (sizes.size() < 2) return absl::InvalidArgumentError("an MLP needs inputs and outputs");
  for (int size : sizes) {
    if (size < 1) return absl::InvalidArgumentError("every layer size must be at least 1");
  }
  if (options.dropout < 0 || options.dropout >= 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("dropout is ", options.dropout, ": it must be in [0, 1)"));
  }
  if (options.max_batch < 1) return absl::InvalidArgumentError("max_batch must be at least 1");
  const size_t count = sizes.size() - 1;
  if (weights.size() != count || biases.size() != count) {
    return absl::InvalidArgumentError(absl::StrCat(count, " layers, but ", weights.size(),
                                                   " weights and ", biases.size(),
                                                   " biases were given"));
  }
  for (size_t l = 0; l < count; ++l) {
    if (weights[l].size() != static_cast<size_t>(sizes[l]) * sizes[l + 1] ||
        biases[l].size() != static_cast<size_t>(sizes[l + 1])) {
      return absl::InvalidArgumentError(absl::StrCat("layer ", l, " is not ", sizes[l + 1], " x ",
                                                     sizes[l], " with ", sizes[l + 1], " biases"));
    }
  }
  const bool one_output = options.loss != MlpLoss::kSoftmaxCrossEntropy;
  if (one_output && sizes.back() != 1) {
    return absl::InvalidArgumentError("this loss takes exactly one output");
  }
  const size_t classes = options.loss == MlpLoss::kSoftmaxCrossEntropy  ? sizes.back()
                         : options.loss == MlpLoss::kBinaryCrossEntropy ? 2
                                                                        : 0;
  if (!options.class_weights.empty() && options.class_weights.size() != classes) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.class_weights.size(), " class weights for ", classes, " classes"));
  }
  std::unique_ptr<CpuMlp> mlp(new CpuMlp(std::move(options)));
  const std::vector<int>& layer_sizes = mlp->options_.sizes;  // `sizes` moved with the options.
  const int64_t batch = mlp->options_.max_batch;
  mlp->weights_ = std::move(weights);
  mlp->biases_ = std::move(biases);
  for (size_t l = 0; l < count; ++l) {
    const size_t outputs = layer_sizes[l + 1];
    mlp->weight_grads_.emplace_back(mlp->weights_[l].size());
    mlp->bias_grads_.emplace_back(outputs);
    mlp->pre_.emplace_back(batch * outputs);
    mlp->delta_.emplace_back(batch * outputs);
    const bool hidden = l + 1 < count;
    mlp->post_.emplace_back(hidden ? batch * outputs : 0);
    mlp->keep_.emplace_back(hidden && mlp->options_.dropout > 0 ? batch * outputs : 0);
  }
  for (size_t l = 0; l < count; ++l) {
    for (const auto* arrays : {&mlp->weights_, &mlp->biases_}) {
      mlp->first_moment_.emplace_back((*arrays)[l].size(), 0.0f);
      mlp->second_moment_.emplace_back(mlp->options_.adam ? (*arrays)[l].size() : 0, 0.0f);
    }
  }
  mlp->batch_.resize(batch * layer_sizes[0]);
  mlp->batch_targets_.resize(batch);
  return mlp;
}

void CpuMlp::SetThreads() const {
  // oneDNN's products use the calling thread's OpenMP team size, as our loops do. Set every
  // time, "all cores" included: the setting stays with the thread, and a trainer's worker
  // thread trains one run after another.
  omp_set_num_threads(options_.threads > 0 ? options_.threads : omp_get_num_procs());
}

void CpuMlp::Forward(const float* input, int64_t count, bool training) {
  const std::vector<int>& sizes = options_.sizes;
  const bool dropout = training && options_.dropout > 0;
  const float keep_scale = dropout ? static_cast<float>(1.0 / (1.0 - options_.dropout)) : 1.0f;
  const uint64_t threshold = static_cast<uint64_t>(options_.dropout * 16777216.0);
  const MlpActivation activation = options_.activation;
  for (int l = 0; l < layers(); ++l) {
    const int64_t in = sizes[l], out = sizes[l + 1];
    const float* x = l == 0 ? input : post_[l - 1].data();
    float* z = pre_[l].data();
    Gemm('N', 'T', count, out, in, x, weights_[l].data(), z);
    const float* bias = biases_[l].data();
    const bool last = l + 1 == layers();
    float* h = last ? nullptr : post_[l].data();
    uint8_t* keep = dropout ? keep_[l].data() : nullptr;
    const uint64_t stream = SplitMix(options_.seed ^ SplitMix((steps_ << 8) | l));
#pragma omp parallel for schedule(static) if (count * out >= kParallelFrom)
    for (int64_t r = 0; r < count; ++r) {
      float* zr = z + r * out;
      for (int64_t c = 0; c < out; ++c) zr[c] += bias[c];
      if (last) continue;
      float* hr = h + r * out;
      switch (activation) {
        case MlpActivation::kRelu:
          for (int64_t c = 0; c < out; ++c) hr[c] = zr[c] > 0 ? zr[c] : 0.0f;
          break;
        case MlpActivation::kTanh:
          for (int64_t c = 0; c < out; ++c) hr[c] = zr[c] = std::tanh(zr[c]);
          break;
        case MlpActivation::kSigmoid:
          for (int64_t c = 0; c < out; ++c) hr[c] = zr[c] = Sigmoid(zr[c]);
          break;
        case MlpActivation::kGelu:
          for (int64_t c = 0; c < out; ++c) hr[c] = zr[c] * NormalCdf(zr[c]);
          break;
      }
      if (keep == nullptr) continue;
      // A counter-based mask: the same for a seed whatever the number of threads.
      uint8_t* kr = keep + r * out;
      for (int64_t c = 0; c < out; ++c) {
        kr[c] = (SplitMix(stream + r * out + c) >> 40) >= threshold;
        hr[c] = kr[c] ? hr[c] * keep_scale : 0.0f;
      }
    }
  }
}

void CpuMlp::OutputLoss(const float* targets, int64_t count, bool gradient, double* numerator,
                        double* denominator) {
  const int64_t outputs = options_.sizes.back();
  const float* z = pre_.back().data();
  float* g = delta_.back().data();
  const std::vector<float>& weights = options_.class_weights;
  const auto row_weight = [&](float target) {
    return weights.empty() ? 1.0f : weights[static_cast<size_t>(target)];
  };
  double sum = 0, weight_sum = 0;
  if (options_.loss == MlpLoss::kSoftmaxCrossEntropy) {
#pragma omp parallel for schedule(static) reduction(+ : sum, weight_sum) \
    if (count * outputs >= kParallelFrom)
    for (int64_t r = 0; r < count; ++r) {
      const float* zr = z + r * outputs;
      const int64_t y = static_cast<int64_t>(targets[r]);
      float top = zr[0];
      for (int64_t c = 1; c < outputs; ++c) top = std::max(top, zr[c]);
      float total = 0;
      for (int64_t c = 0; c < outputs; ++c) total += std::exp(zr[c] - top);
      const float log_total = top + std::log(total);
      const float w = row_weight(targets[r]);
      sum += static_cast<double>(w) * (log_total - zr[y]);
      weight_sum += w;
      if (!gradient) continue;
      float* gr = g + r * outputs;
      for (int64_t c = 0; c < outputs; ++c) gr[c] = w * std::exp(zr[c] - log_total);
      gr[y] -= w;
    }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : sum) if (count >= kParallelFrom)
    for (int64_t r = 0; r < count; ++r) {
      const float out = z[r], y = targets[r];
      float loss = 0, slope = 0;
      switch (options_.loss) {
        case MlpLoss::kBinaryCrossEntropy: {
          const float w = row_weight(y);
          loss = w * (std::max(out, 0.0f) - out * y + std::log1p(std::exp(-std::abs(out))));
          slope = w * (Sigmoid(out) - y);
          break;
        }
        case MlpLoss::kSquaredError:
          loss = (out - y) * (out - y);
          slope = 2 * (out - y);
          break;
        case MlpLoss::kAbsoluteError:
          loss = std::abs(out - y);
          slope = out > y ? 1.0f : (out < y ? -1.0f : 0.0f);
          break;
        default: {  // Huber, delta 1.
          const float d = out - y;
          loss = std::abs(d) <= 1 ? 0.5f * d * d : std::abs(d) - 0.5f;
          slope = std::abs(d) <= 1 ? d : (d > 0 ? 1.0f : -1.0f);
          break;
        }
      }
      sum += loss;
      if (gradient) g[r] = slope;
    }
    weight_sum = static_cast<double>(count);
  }
  *numerator = sum;
  *denominator = weight_sum;
  if (!gradient || weight_sum == 0) return;
  const float scale = static_cast<float>(1.0 / weight_sum);
  const int64_t n = count * outputs;
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
  for (int64_t i = 0; i < n; ++i) g[i] *= scale;
}

void CpuMlp::Backward(const float* input, int64_t count) {
  const std::vector<int>& sizes = options_.sizes;
  const bool dropout = options_.dropout > 0;
  const float keep_scale = dropout ? static_cast<float>(1.0 / (1.0 - options_.dropout)) : 1.0f;
  const MlpActivation activation = options_.activation;
  const int threads = omp_get_max_threads();  // As SetThreads left it.
  for (int l = layers() - 1; l >= 0; --l) {
    const int64_t in = sizes[l], out = sizes[l + 1];
    const float* x = l == 0 ? input : post_[l - 1].data();
    const float* d = delta_[l].data();
    Gemm('T', 'N', out, in, count, d, x, weight_grads_[l].data());
    // The bias gradient: column sums, each thread owning a block of columns.
    float* bias_grad = bias_grads_[l].data();
    const int teams = count * out >= kParallelFrom ? threads : 1;
#pragma omp parallel num_threads(teams)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      const int64_t begin = out * t / n, end = out * (t + 1) / n;
      for (int64_t c = begin; c < end; ++c) bias_grad[c] = 0;
      for (int64_t r = 0; r < count; ++r) {
        const float* dr = d + r * out;
        for (int64_t c = begin; c < end; ++c) bias_grad[c] += dr[c];
      }
    }
    if (l == 0) break;
    // The gradient with respect to the previous layer's pre-activation.
    float* below = delta_[l - 1].data();
    Gemm('N', 'N', count, in, out, d, weights_[l].data(), below);
    const float* z = pre_[l - 1].data();
    const uint8_t* keep = dropout ? keep_[l - 1].data() : nullptr;
    const int64_t n = count * in;
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
    for (int64_t i = 0; i < n; ++i) {
      float slope = 0;
      switch (activation) {
        case MlpActivation::kRelu:
          slope = z[i] > 0 ? 1.0f : 0.0f;
          break;
        case MlpActivation::kTanh:  // z holds tanh(z).
          slope = 1 - z[i] * z[i];
          break;
        case MlpActivation::kSigmoid:  // z holds sigmoid(z).
          slope = z[i] * (1 - z[i]);
          break;
        case MlpActivation::kGelu:
          slope = NormalCdf(z[i]) + z[i] * Normal(z[i]);
          break;
      }
      if (keep != nullptr) slope = keep[i] ? slope * keep_scale : 0.0f;
      below[i] *= slope;
    }
  }
}

void CpuMlp::Update() {
  ++steps_;
  const float lr = static_cast<float>(options_.learning_rate);
  const float decay = static_cast<float>(options_.weight_decay);
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999;
  constexpr float kEpsilon = 1e-8f;
  const float correction1 = static_cast<float>(1 - std::pow(kBeta1, steps_));
  const float root_correction2 = static_cast<float>(std::sqrt(1 - std::pow(kBeta2, steps_)));
  const float step_size = lr / correction1;
  const float momentum = static_cast<float>(options_.momentum);
  const bool first_step = steps_ == 1;
  for (int l = 0; l < layers(); ++l) {
    for (int kind = 0; kind < 2; ++kind) {
      std::vector<float>& values = kind == 0 ? weights_[l] : biases_[l];
      const float* grads = kind == 0 ? weight_grads_[l].data() : bias_grads_[l].data();
      float* p = values.data();
      float* m = first_moment_[2 * l + kind].data();
      float* v = second_moment_[2 * l + kind].data();
      const int64_t n = static_cast<int64_t>(values.size());
      if (options_.adam) {
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
        for (int64_t i = 0; i < n; ++i) {
          const float g = grads[i] + decay * p[i];
          m[i] = m[i] * static_cast<float>(kBeta1) + g * static_cast<float>(1 - kBeta1);
          v[i] = v[i] * static_cast<float>(kBeta2) + g * g * static_cast<float>(1 - kBeta2);
          p[i] -= step_size * m[i] / (std::sqrt(v[i]) / root_correction2 + kEpsilon);
        }
      } else {
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
        for (int64_t i = 0; i < n; ++i) {
          float g = grads[i] + decay * p[i];
          if (momentum != 0) g = m[i] = first_step ? g : m[i] * momentum + g;
          p[i] -= lr * g;
        }
      }
    }
  }
}

double CpuMlp::Step(const float* x, const float* targets, const int64_t* rows, int64_t count) {
  SetThreads();
  count = std::min(count, options_.max_batch);
  const int64_t width = options_.sizes[0];
  float* batch = batch_.data();
#pragma omp parallel for schedule(static) if (count * width >= kParallelFrom)
  for (int64_t r = 0; r < count; ++r) {
    std::memcpy(batch + r * width, x + rows[r] * width, width * sizeof(float));
    batch_targets_[r] = targets[rows[r]];
  }
  Forward(batch, count, /*training=*/true);
  double numerator = 0, denominator = 0;
  OutputLoss(batch_targets_.data(), count, /*gradient=*/true, &numerator, &denominator);
  // Rows that all weigh 0 make LibTorch's mean NaN: so here, and the trainer reports divergence.
  if (denominator == 0) return std::nan("");
  Backward(batch, count);
  Update();
  return numerator / denominator;
}

void CpuMlp::Predict(const float* x, int64_t n, float* out) {
  SetThreads();
  const int64_t width = options_.sizes[0], outputs = options_.sizes.back();
  for (int64_t begin = 0; begin < n; begin += options_.max_batch) {
    const int64_t count = std::min(options_.max_batch, n - begin);
    Forward(x + begin * width, count, /*training=*/false);
    std::memcpy(out + begin * outputs, pre_.back().data(), count * outputs * sizeof(float));
  }
}

double CpuMlp::Loss(const float* x, const float* targets, int64_t n) {
  SetThreads();
  const int64_t width = options_.sizes[0];
  double numerator = 0, denominator = 0;
  for (int64_t begin = 0; begin < n; begin += options_.max_batch) {
    const int64_t count = std::min(options_.max_batch, n - begin);
    Forward(x + begin * width, count, /*training=*/false);
    double part = 0, weight = 0;
    OutputLoss(targets + begin, count, /*gradient=*/false, &part, &weight);
    numerator += part;
    denominator += weight;
  }
  if (n == 0) return 0;
  return denominator == 0 ? std::nan("") : numerator / denominator;  // As in Step.
}

std::string CpuMlp::SaveState() const {
  CheckpointWriter out;
  out.Put<int64_t>(steps_);
  out.Put<uint64_t>(weights_.size());
  for (size_t l = 0; l < weights_.size(); ++l) {
    out.PutArray(weights_[l]);
    out.PutArray(biases_[l]);
  }
  out.Put<uint64_t>(first_moment_.size());
  for (size_t i = 0; i < first_moment_.size(); ++i) {
    out.PutArray(first_moment_[i]);
    out.PutArray(second_moment_[i]);
  }
  return out.Take();
}

absl::Status CpuMlp::LoadState(absl::string_view state) {
  CheckpointReader in(state);
  int64_t steps = 0;
  uint64_t layers = 0, moments = 0;
  // Read into copies: a state that does not fit leaves the network as it was.
  std::vector<std::vector<float>> weights = weights_, biases = biases_;
  std::vector<std::vector<float>> first = first_moment_, second = second_moment_;
  const auto fits = [](const std::vector<float>& read, const std::vector<float>& now) {
    return read.size() == now.size();
  };
  bool ok = in.Get(&steps) && in.Get(&layers) && layers == weights_.size();
  for (size_t l = 0; ok && l < layers; ++l) {
    ok = in.GetArray(&weights[l]) && fits(weights[l], weights_[l]) && in.GetArray(&biases[l]) &&
         fits(biases[l], biases_[l]);
  }
  ok = ok && in.Get(&moments) && moments == first_moment_.size();
  for (size_t i = 0; ok && i < moments; ++i) {
    ok = in.GetArray(&first[i]) && fits(first[i], first_moment_[i]) && in.GetArray(&second[i]) &&
         fits(second[i], second_moment_[i]);
  }
  if (!ok || !in.done()) {
    return absl::InvalidArgumentError(
        "the checkpoint's state does not fit this network: it was saved for another spec");
  }
  steps_ = steps;
  weights_ = std::move(weights);
  biases_ = std::move(biases);
  first_moment_ = std::move(first);
  second_moment_ = std::move(second);
  return absl::OkStatus();
}

}  // namespace fabrique::training
