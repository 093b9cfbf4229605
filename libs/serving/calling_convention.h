#ifndef FABRIQUE_LIBS_SERVING_CALLING_CONVENTION_H_
#define FABRIQUE_LIBS_SERVING_CALLING_CONVENTION_H_

// How a TorchScript module's forward is called with a signature's rows, decided once when the
// module is loaded from forward's schema:
// - tabular (the trainer's modules): forward(numeric: Tensor, categorical: List[List[str]]);
//   the FP32 inputs are concatenated in signature order into `numeric` [rows, sum of widths]
//   and the BYTES inputs into `categorical`, one list of strings per row;
// - positional: one argument per signature input, in order, a Tensor of the input's dtype and
//   shape (BYTES inputs: List[str], flattened); the result is a Tensor (one output), a tuple of
//   Tensors (one per output, in order) or a Dict[str, Tensor] (by output name).
// Internal to the TorchScript loader: this header compiles against LibTorch.

#include <torch/script.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// One signature tensor as the convention uses it: its name, type and shape (-1 = any).
struct TensorSpecView {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;
};

class CallingConvention {
 public:
  enum class Kind { kTabular, kPositional };

  // Decides how `forward` (the module's forward schema) is called with `signature`.
  // INVALID_ARGUMENT saying what forward takes and what the signature offers when it cannot be.
  static absl::StatusOr<CallingConvention> Decide(const c10::FunctionSchema& forward,
                                                  const v1::ModelSignature& signature);

  Kind kind() const { return kind_; }
  const std::vector<TensorSpecView>& inputs() const { return inputs_; }
  const std::vector<TensorSpecView>& outputs() const { return outputs_; }

  // The arguments of forward (without self) for `batch`, on `device`. INVALID_ARGUMENT when the
  // batch does not hold the signature's inputs (names, types, row counts).
  absl::StatusOr<std::vector<c10::IValue>> Arguments(const TensorBatch& batch,
                                                     const c10::Device& device) const;

  // The signature's outputs from what forward returned for `rows` rows, on the CPU, converted to
  // each output's datatype. INTERNAL naming the output when the result does not have it (a
  // missing output, a wrong row count or shape, a type that is not a number).
  absl::StatusOr<TensorBatch> Outputs(const c10::IValue& result, int64_t rows) const;

 private:
  CallingConvention(Kind kind, std::vector<TensorSpecView> inputs,
                    std::vector<TensorSpecView> outputs)
      : kind_(kind), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  absl::StatusOr<std::vector<c10::IValue>> TabularArguments(const TensorBatch& batch,
                                                            const c10::Device& device) const;
  absl::StatusOr<std::vector<c10::IValue>> PositionalArguments(const TensorBatch& batch,
                                                               const c10::Device& device) const;

  Kind kind_;
  std::vector<TensorSpecView> inputs_;
  std::vector<TensorSpecView> outputs_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_CALLING_CONVENTION_H_
