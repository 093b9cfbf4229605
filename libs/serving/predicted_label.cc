#include "libs/serving/predicted_label.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace fabrique::serving {
namespace {

// The tensor holding the class scores: "probability"/"probabilities" if present, else the first.
const Tensor* ScoresOf(const TensorBatch& outputs) {
  for (const Tensor& tensor : outputs.tensors) {
    if (tensor.name == "probability" || tensor.name == "probabilities") return &tensor;
  }
  return outputs.tensors.empty() ? nullptr : &outputs.tensors[0];
}

// Row `row` of a numeric tensor as doubles; empty for a type that holds no scores.
std::vector<double> RowScores(const Tensor& tensor, int64_t row) {
  const int64_t width = tensor.ElementsPerRow();
  const int64_t begin = row * width;
  std::vector<double> scores;
  for (int64_t i = begin; i < begin + width; ++i) {
    if (tensor.type == DataType::kFp32 && i < static_cast<int64_t>(tensor.fp32.size())) {
      scores.push_back(tensor.fp32[i]);
    } else if (tensor.type == DataType::kFp64 && i < static_cast<int64_t>(tensor.fp64.size())) {
      scores.push_back(tensor.fp64[i]);
    }
  }
  return scores;
}

}  // namespace

absl::StatusOr<std::string> PredictedLabel(const v1::ModelSignature& signature,
                                           const TensorBatch& outputs, int64_t row) {
  const auto& labels = signature.class_labels();
  if (labels.empty()) return std::string();
  if (row < 0 || row >= outputs.rows) {
    return absl::OutOfRangeError(
        absl::StrCat("row ", row, " is not among the ", outputs.rows, " rows scored"));
  }
  const Tensor* scores_tensor = ScoresOf(outputs);
  if (scores_tensor == nullptr) {
    return absl::FailedPreconditionError("the model gave no outputs to read a class label from");
  }
  const std::vector<double> scores = RowScores(*scores_tensor, row);
  const bool binary = scores.size() == 1 && labels.size() == 2;
  if (!binary && (scores.empty() || scores.size() != static_cast<size_t>(labels.size()))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "output '", scores_tensor->name, "' (", DataTypeName(scores_tensor->type), ") has ",
        scores.size(), " scores a row but the signature names ", labels.size(),
        " class labels: a classifier answers P(class 1) for two labels or one score per label"));
  }
  if (binary) {
    if (std::isnan(scores[0])) return std::string();
    return labels[scores[0] >= 0.5 ? 1 : 0];
  }
  size_t best = 0;
  for (size_t k = 0; k < scores.size(); ++k) {
    if (std::isnan(scores[k])) return std::string();
    if (scores[k] > scores[best]) best = k;
  }
  return labels[static_cast<int>(best)];
}

std::string RoutingKey(const google::protobuf::RepeatedPtrField<v1::EntityKeys>& entity_keys,
                       int64_t row) {
  std::string key;
  for (int e = 0; e < entity_keys.size(); ++e) {
    if (e > 0) key.push_back('|');
    const auto& keys = entity_keys.Get(e).keys();
    if (row >= 0 && row < keys.size()) key.append(keys.Get(static_cast<int>(row)));
  }
  return key;
}

}  // namespace fabrique::serving
