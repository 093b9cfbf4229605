#ifndef FABRIQUE_LIBS_TRAINING_TORCHSCRIPT_EXPORT_H_
#define FABRIQUE_LIBS_TRAINING_TORCHSCRIPT_EXPORT_H_

// Builds the TorchScript module a trained network ships as: forward(numeric, categorical) takes
// raw feature values in the signature's order — `numeric` a float tensor [rows, NumericWidth()]
// with NaN for missing values, `categorical` one list of strings per row ("" for missing) —
// and applies the training split's preprocessing (mean imputation, missing indicators,
// standardisation, one-hot vocabularies with an unknown bucket), the network, and the output
// activation (sigmoid: P(class 1) [rows, 1]; softmax: [rows, classes]; regression: the target,
// de-standardised, [rows, 1]). The generated source is plain TorchScript, readable with
// `module.code` in Python.

#include <string>
#include <vector>

#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_data.h"
#include "libs/training/torch_compat.h"

namespace fabrique::training {

struct ExportedNetwork {
  Preprocessing preprocessing;
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  v1::Activation activation = v1::ACTIVATION_RELU;  // Between hidden layers.
  // Linear layers input side first: weight [out, in] and bias [out], on the CPU.
  std::vector<torch::Tensor> weights;
  std::vector<torch::Tensor> biases;
  // Regression only: the network predicts (target - mean) / stddev.
  double target_mean = 0;
  double target_stddev = 1;
};

// The module, ready to save.
torch::jit::Module BuildTorchScript(const ExportedNetwork& network);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TORCHSCRIPT_EXPORT_H_
