#include "libs/training/torchscript_export.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::training {
namespace {

std::string ActivationCall(v1::Activation activation, const std::string& x) {
  switch (activation) {
    case v1::ACTIVATION_TANH:
      return absl::StrCat("torch.tanh(", x, ")");
    case v1::ACTIVATION_GELU:
      return absl::StrCat("torch.gelu(", x, ")");
    case v1::ACTIVATION_SIGMOID:
      return absl::StrCat("torch.sigmoid(", x, ")");
    default:
      return absl::StrCat("torch.relu(", x, ")");
  }
}

torch::Tensor FloatTensor(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat32);
}

}  // namespace

torch::jit::Module BuildTorchScript(const ExportedNetwork& network) {
  const Preprocessing& p = network.preprocessing;
  torch::jit::Module module("FabriqueTabularModel");
  std::vector<float> mean, stddev;
  std::vector<int64_t> indicator_columns;
  int offset = 0;
  for (const Preprocessing::Numeric& n : p.numeric) {
    mean.insert(mean.end(), n.mean.begin(), n.mean.end());
    stddev.insert(stddev.end(), n.stddev.begin(), n.stddev.end());
    for (int k = 0; k < n.width && n.missing_indicator; ++k)
      indicator_columns.push_back(offset + k);
    offset += n.width;
  }
  module.register_buffer("mean", FloatTensor(mean));
  module.register_buffer("stddev", FloatTensor(stddev));
  module.register_buffer("target_scale",
                         torch::tensor({static_cast<float>(network.target_stddev)}));
  module.register_buffer("target_shift", torch::tensor({static_cast<float>(network.target_mean)}));
  module.register_buffer("indicator_columns", torch::tensor(indicator_columns, torch::kInt64));
  for (size_t j = 0; j < p.categorical.size(); ++j) {
    module.register_attribute(absl::StrCat("vocabulary_", j), compat::StringIntDictType(),
                              compat::StringIntDict(p.categorical[j].vocabulary));
  }
  for (size_t l = 0; l < network.weights.size(); ++l) {
    module.register_parameter(absl::StrCat("weight_", l), network.weights[l].detach().cpu(), false);
    module.register_parameter(absl::StrCat("bias_", l), network.biases[l].detach().cpu(), false);
  }

  // The source mirrors Encode() (tabular_data.cc): values, indicators, one-hot blocks.
  std::string source = R"(
def forward(self, numeric: Tensor, categorical: List[List[str]]) -> Tensor:
    x = numeric.float()
    missing = torch.isnan(x)
    parts = [(torch.where(missing, self.mean, x) - self.mean) / self.stddev]
)";
  if (!indicator_columns.empty()) {
    absl::StrAppend(&source,
                    "    parts.append(missing.index_select(1, self.indicator_columns).float())\n");
  }
  if (!p.categorical.empty()) {
    absl::StrAppend(&source, "    rows = x.size(0)\n");
  }
  for (size_t j = 0; j < p.categorical.size(); ++j) {
    absl::StrAppend(&source, "    codes_", j, " = torch.zeros([rows]).long()\n",
                    "    for i in range(rows):\n", "        codes_", j, "[i] = self.vocabulary_", j,
                    ".get(categorical[i][", j, "], 0)\n", "    parts.append(torch.one_hot(codes_",
                    j, ", ", p.categorical[j].vocabulary.size() + 1, ").float())\n");
  }
  absl::StrAppend(&source, "    h = torch.cat(parts, 1)\n");
  for (size_t l = 0; l < network.weights.size(); ++l) {
    const std::string layer =
        absl::StrCat("torch.linear(h, self.weight_", l, ", self.bias_", l, ")");
    const bool last = l + 1 == network.weights.size();
    absl::StrAppend(&source, "    h = ", last ? layer : ActivationCall(network.activation, layer),
                    "\n");
  }
  switch (network.task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      absl::StrAppend(&source, "    return torch.softmax(h, 1)\n");
      break;
    case v1::TASK_REGRESSION:
      absl::StrAppend(&source, "    return h * self.target_scale + self.target_shift\n");
      break;
    default:
      absl::StrAppend(&source, "    return torch.sigmoid(h)\n");
  }
  module.define(source);
  module.eval();
  return module;
}

// Declared in tabular_trainer.h: it runs what BuildTorchScript exports, as inference will.
absl::StatusOr<std::vector<double>> PredictTorchScript(const std::string& torchscript,
                                                       const RawTable& table) {
  if (absl::Status ok = table.Validate(); !ok.ok()) return ok;
  torch::jit::Module module;
  try {
    std::istringstream in(torchscript);
    module = torch::jit::load(in, torch::kCPU);
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(absl::StrCat("not a TorchScript module: ", error.what()));
  }
  int numeric_width = 0;
  for (const RawColumn& column : table.columns) {
    if (!column.categorical) numeric_width += column.width;
  }
  std::vector<float> numeric(static_cast<size_t>(table.rows) * numeric_width);
  c10::List<c10::List<std::string>> categorical;
  for (int64_t i = 0; i < table.rows; ++i) {
    c10::List<std::string> row;
    int offset = 0;
    for (const RawColumn& column : table.columns) {
      if (column.categorical) {
        const bool missing = !column.missing.empty() && column.missing[i];
        row.push_back(missing ? std::string() : column.strings[i]);
        continue;
      }
      for (int k = 0; k < column.width; ++k) {
        numeric[i * numeric_width + offset + k] = column.numeric[i * column.width + k];
      }
      offset += column.width;
    }
    categorical.push_back(std::move(row));
  }
  torch::Tensor x =
      torch::from_blob(numeric.data(), {table.rows, numeric_width}, torch::kFloat32).clone();
  torch::Tensor out;
  try {
    torch::NoGradGuard no_grad;
    out = module.forward({x, categorical}).toTensor();
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(absl::StrCat("the module refused the rows: ", error.what()));
  }
  out = out.to(torch::kFloat64).contiguous();
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

}  // namespace fabrique::training
