#ifndef FABRIQUE_LIBS_TRAINING_TORCH_COMPAT_H_
#define FABRIQUE_LIBS_TRAINING_TORCH_COMPAT_H_

// The few places where Debian's LibTorch 1.13 and current LibTorch 2.x differ for what the
// trainer uses, so the rest of libs/training is written once. Include this instead of
// <torch/torch.h> directly.

#include <torch/script.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
#define FABRIQUE_TORCH_2 1
#else
#define FABRIQUE_TORCH_2 0
#endif

namespace fabrique::training::compat {

inline bool CudaAvailable() { return torch::cuda::is_available(); }

// "cpu" or "cuda:0".
inline std::string DeviceName(const torch::Device& device) { return device.str(); }

// Huber loss with threshold `delta`: huber_loss(input, target, reduction, delta) in both (since
// 1.9); kept in one place so the loss's definition is not spread over the trainer.
inline torch::Tensor HuberLoss(const torch::Tensor& input, const torch::Tensor& target,
                               double delta = 1.0) {
  return torch::huber_loss(input, target, at::Reduction::Mean, delta);
}

// Clears the gradients between steps. 2.x's zero_grad() drops them (set_to_none = true) where
// 1.13's fills them with zeros; both give the same steps here (every parameter gets a gradient
// at every step), but zeros keep the two versions byte-for-byte alike.
inline void ZeroGrad(torch::optim::Optimizer& optimizer) {
#if FABRIQUE_TORCH_2
  optimizer.zero_grad(/*set_to_none=*/false);
#else
  optimizer.zero_grad();
#endif
}

// A TorchScript Dict[str, int] attribute value.
inline c10::IValue StringIntDict(const std::vector<std::string>& keys) {
  c10::Dict<std::string, int64_t> dict;
  for (size_t i = 0; i < keys.size(); ++i) dict.insert(keys[i], static_cast<int64_t>(i) + 1);
  return c10::IValue(dict);
}
inline c10::TypePtr StringIntDictType() {
  return c10::DictType::create(c10::StringType::get(), c10::IntType::get());
}

}  // namespace fabrique::training::compat

#endif  // FABRIQUE_LIBS_TRAINING_TORCH_COMPAT_H_
