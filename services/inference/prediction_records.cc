#include "services/inference/prediction_records.h"

#include "google/protobuf/util/time_util.h"

namespace fabrique::services {
namespace {

using serving::DataType;
using serving::Tensor;

// Row `row`'s elements of `tensor` as one Value: the monitor compares inputs one by one.
v1::Value InputValue(const Tensor& tensor, int64_t row) {
  v1::Value value;
  const int64_t width = tensor.ElementsPerRow();
  const int64_t at = row * width;
  if (tensor.type == DataType::kFp32 && width > 1) {
    auto* vector = value.mutable_float_vector_value();
    for (int64_t i = 0; i < width; ++i) vector->add_values(tensor.fp32[at + i]);
    return value;
  }
  if (width != 1) return value;  // Wider non-float rows are not kept.
  switch (tensor.type) {
    case DataType::kFp32:
      value.set_float_value(tensor.fp32[at]);
      break;
    case DataType::kFp64:
      value.set_double_value(tensor.fp64[at]);
      break;
    case DataType::kInt64:
      value.set_int64_value(tensor.int64[at]);
      break;
    case DataType::kInt32:
      value.set_int64_value(tensor.int32[at]);
      break;
    case DataType::kBool:
      value.set_bool_value(tensor.boolean[at] != 0);
      break;
    case DataType::kBytes:
      value.set_string_value(tensor.bytes[at]);
      break;
  }
  return value;
}

// Row `row`'s elements of a numeric `tensor` as floats; none for text.
v1::ModelOutput OutputValues(const Tensor& tensor, int64_t row) {
  v1::ModelOutput output;
  output.set_name(tensor.name);
  const int64_t width = tensor.ElementsPerRow();
  for (int64_t i = row * width; i < (row + 1) * width; ++i) {
    switch (tensor.type) {
      case DataType::kFp32:
        output.add_values(tensor.fp32[i]);
        break;
      case DataType::kFp64:
        output.add_values(static_cast<float>(tensor.fp64[i]));
        break;
      case DataType::kInt64:
        output.add_values(static_cast<float>(tensor.int64[i]));
        break;
      case DataType::kInt32:
        output.add_values(static_cast<float>(tensor.int32[i]));
        break;
      case DataType::kBool:
        output.add_values(tensor.boolean[i] != 0 ? 1.0f : 0.0f);
        break;
      case DataType::kBytes:
        break;
    }
  }
  return output;
}

}  // namespace

std::vector<v1::PredictionRecord> RowRecords(const RecordContext& context,
                                             const serving::TensorBatch& inputs,
                                             const serving::TensorBatch& outputs,
                                             const std::vector<std::string>& ids,
                                             const std::vector<std::string>& primary_ids) {
  std::vector<v1::PredictionRecord> records;
  records.reserve(inputs.rows);
  const auto time =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(context.time));
  for (int64_t row = 0; row < inputs.rows && row < static_cast<int64_t>(ids.size()); ++row) {
    v1::PredictionRecord& record = records.emplace_back();
    record.set_prediction_id(ids[row]);
    record.mutable_model_version()->set_model(context.model);
    record.mutable_model_version()->set_version(context.version);
    record.set_alias(context.alias);
    record.set_canary(context.canary);
    record.set_shadow(context.shadow);
    *record.mutable_time() = time;
    record.set_latency_seconds(absl::ToDoubleSeconds(context.latency));
    record.set_request_id(context.request_id);
    record.set_row(row);
    if (row < static_cast<int64_t>(primary_ids.size())) {
      record.set_primary_prediction_id(primary_ids[row]);
    }
    for (const Tensor& tensor : inputs.tensors) *record.add_inputs() = InputValue(tensor, row);
    for (const Tensor& tensor : outputs.tensors) {
      if (tensor.rows() > row) *record.add_outputs() = OutputValues(tensor, row);
    }
  }
  return records;
}

}  // namespace fabrique::services
