#ifndef FABRIQUE_TOOLS_GPU_CHECK_SERVING_CHECK_H_
#define FABRIQUE_TOOLS_GPU_CHECK_SERVING_CHECK_H_

// gpu_check's serving half: a trained module served as fabrique-inference serves it, through
// libs/serving's TorchScript loader, on the CPU and on CUDA.

#include <string>
#include <vector>

#include "libs/training/tabular_data.h"

namespace fabrique::gpu_check {

struct ServingCheckOptions {
  // The exported module (torch::jit::save bytes) of a binary classifier over `rows`' columns,
  // all numeric and one wide, answering P(class 1).
  std::string torchscript;
  // Rows to score; the largest batch size is capped at its row count.
  const training::RawTable* rows = nullptr;
  // What training's own predictions were for the first rows of `rows` (may be empty): the
  // served module must give them too.
  std::vector<double> expected;
  // Also serve on "cuda" and check "auto" picks it. Default true; false checks only that "auto"
  // picks the CPU and "cuda" is refused as absent.
  bool cuda = true;
  // Batch sizes timed, in rows. Default {1, 64, 1024, 8192}.
  std::vector<int> batch_sizes = {1, 64, 1024, 8192};
  // How long each device times each batch size, in seconds. Default 0.5.
  double seconds_per_batch = 0.5;
};

// Loads the module through the loader with device "cpu" (and "cuda", "auto"), warmed up for the
// batch sizes; checks where each sits, that CUDA's answers equal the CPU's within 1e-4 for every
// batch size and the CPU's equal `expected` within 1e-3; prints rows per second per batch size
// and device. Returns the number of failed checks, each printed with its reason.
int CheckServing(const ServingCheckOptions& options);

}  // namespace fabrique::gpu_check

#endif  // FABRIQUE_TOOLS_GPU_CHECK_SERVING_CHECK_H_
