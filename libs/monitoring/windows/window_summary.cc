#include "libs/monitoring/windows/window_summary.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/sketch/sketch_bytes.h"

namespace fabrique::monitoring {
namespace {

constexpr absl::string_view kMagic = "FWIN";
constexpr uint8_t kFormatVersion = 1;

void WriteColumn(const WindowColumn& column, ByteWriter& out) {
  // No bins: readers take the sketch itself.
  const std::string bytes = column.summary().ToProto("", /*bins=*/0).SerializeAsString();
  out.U32(static_cast<uint32_t>(bytes.size()));
  out.Raw(bytes);
}

bool ReadString(ByteReader& in, absl::string_view* bytes) {
  uint32_t size = 0;
  return in.U32(&size) && in.Raw(size, bytes);
}

absl::StatusOr<WindowColumn> ReadColumn(ByteReader& in) {
  absl::string_view bytes;
  v1::DistributionProfile profile;
  if (!ReadString(in, &bytes) || !profile.ParseFromArray(bytes.data(), bytes.size())) {
    return absl::DataLossError("a window summary's column is truncated or corrupt");
  }
  absl::StatusOr<ColumnSummary> summary = ColumnSummary::FromProto(profile);
  if (!summary.ok()) {
    return absl::DataLossError(
        absl::StrCat("a window summary's column is corrupt: ", summary.status().message()));
  }
  return WindowColumn(*std::move(summary));
}

}  // namespace

void WindowSummary::Add(const v1::PredictionRecord& record) {
  ++predictions_;
  if (record.shadow()) ++shadow_;
  if (record.canary()) ++canary_;
  const absl::Time time = absl::FromUnixMicros(TimestampMicros(record.time()));
  if (time > last_prediction_time_) last_prediction_time_ = time;

  const int inputs = record.inputs_size();
  if (static_cast<size_t>(inputs) > inputs_.size()) {
    // A position first seen now was missing in the records before.
    const size_t had = inputs_.size();
    inputs_.resize(inputs);
    for (size_t i = had; i < inputs_.size(); ++i) {
      if (predictions_ > 1) inputs_[i].AddMissing(predictions_ - 1);
    }
  }
  for (int i = 0; i < inputs; ++i) inputs_[i].Add(record.inputs(i));
  for (size_t i = inputs; i < inputs_.size(); ++i) inputs_[i].AddMissing();

  for (const v1::ModelOutput& output : record.outputs()) AddOutput(output);
  if (!record.predicted_label().empty()) {
    Output(kPredictedLabelColumn).AddCategory(record.predicted_label());
  }
}

WindowColumn& WindowSummary::Output(const std::string& name) {
  auto [it, inserted] = output_index_.try_emplace(name, outputs_.size());
  if (inserted) outputs_.emplace_back(name, WindowColumn());
  return outputs_[it->second].second;
}

void WindowSummary::AddOutput(const v1::ModelOutput& output) {
  const int elements = output.values_size();
  if (elements == 1) return Output(output.name()).AddNumber(output.values(0));
  std::vector<size_t>& columns = element_columns_[output.name()];
  for (int i = static_cast<int>(columns.size()); i < elements; ++i) {
    Output(absl::StrCat(output.name(), "_", i));
    columns.push_back(output_index_[absl::StrCat(output.name(), "_", i)]);
  }
  for (int i = 0; i < elements; ++i) outputs_[columns[i]].second.AddNumber(output.values(i));
}

void WindowSummary::Merge(const WindowSummary& other) {
  // Inputs a window lacks were missing in every one of its records.
  const size_t inputs = std::max(inputs_.size(), other.inputs_.size());
  if (inputs_.size() < inputs) {
    const size_t had = inputs_.size();
    inputs_.resize(inputs);
    for (size_t i = had; i < inputs; ++i) inputs_[i].AddMissing(predictions_);
  }
  for (size_t i = 0; i < inputs; ++i) {
    if (i < other.inputs_.size()) {
      inputs_[i].Merge(other.inputs_[i]);
    } else {
      inputs_[i].AddMissing(other.predictions_);
    }
  }
  for (const auto& [name, column] : other.outputs_) Output(name).Merge(column);
  predictions_ += other.predictions_;
  shadow_ += other.shadow_;
  canary_ += other.canary_;
  last_prediction_time_ = std::max(last_prediction_time_, other.last_prediction_time_);
}

LiveSummaries WindowSummary::ToLive(absl::Time from, absl::Time to) const {
  LiveSummaries live;
  live.from = from;
  live.to = to;
  live.predictions = predictions_;
  live.shadow_predictions = shadow_;
  live.canary_predictions = canary_;
  live.last_prediction_time = last_prediction_time_;
  live.inputs.reserve(inputs_.size());
  for (const WindowColumn& column : inputs_) live.inputs.push_back({"", column.summary()});
  live.outputs.reserve(outputs_.size());
  for (const auto& [name, column] : outputs_) live.outputs.push_back({name, column.summary()});
  return live;
}

size_t WindowSummary::ApproxBytes() const {
  size_t bytes = sizeof(*this);
  for (const WindowColumn& column : inputs_) bytes += column.ApproxBytes();
  for (const auto& [name, column] : outputs_) bytes += name.size() + column.ApproxBytes();
  return bytes;
}

std::string WindowSummary::Encode() const {
  ByteWriter out;
  out.Raw(kMagic);
  out.U8(kFormatVersion);
  out.U64(static_cast<uint64_t>(predictions_));
  out.U64(static_cast<uint64_t>(shadow_));
  out.U64(static_cast<uint64_t>(canary_));
  out.U64(static_cast<uint64_t>(TimeMicros(last_prediction_time_)));
  out.U32(static_cast<uint32_t>(inputs_.size()));
  for (const WindowColumn& column : inputs_) WriteColumn(column, out);
  out.U32(static_cast<uint32_t>(outputs_.size()));
  for (const auto& [name, column] : outputs_) {
    out.U32(static_cast<uint32_t>(name.size()));
    out.Raw(name);
    WriteColumn(column, out);
  }
  return out.Take();
}

absl::StatusOr<WindowSummary> WindowSummary::Decode(absl::string_view bytes) {
  const absl::Status corrupt = absl::DataLossError("a stored window summary is corrupt");
  ByteReader in(bytes);
  absl::string_view magic;
  uint8_t version = 0;
  if (!in.Raw(kMagic.size(), &magic) || magic != kMagic || !in.U8(&version) ||
      version != kFormatVersion) {
    return corrupt;
  }
  WindowSummary summary;
  uint64_t predictions = 0, shadow = 0, canary = 0, last = 0;
  uint32_t inputs = 0, outputs = 0;
  if (!in.U64(&predictions) || !in.U64(&shadow) || !in.U64(&canary) || !in.U64(&last) ||
      !in.U32(&inputs)) {
    return corrupt;
  }
  summary.predictions_ = static_cast<int64_t>(predictions);
  summary.shadow_ = static_cast<int64_t>(shadow);
  summary.canary_ = static_cast<int64_t>(canary);
  const int64_t last_micros = static_cast<int64_t>(last);
  summary.last_prediction_time_ = last_micros == std::numeric_limits<int64_t>::min()
                                      ? absl::InfinitePast()
                                      : absl::FromUnixMicros(last_micros);
  for (uint32_t i = 0; i < inputs; ++i) {
    absl::StatusOr<WindowColumn> column = ReadColumn(in);
    if (!column.ok()) return column.status();
    summary.inputs_.push_back(*std::move(column));
  }
  if (!in.U32(&outputs)) return corrupt;
  for (uint32_t i = 0; i < outputs; ++i) {
    absl::string_view name;
    if (!ReadString(in, &name)) return corrupt;
    absl::StatusOr<WindowColumn> column = ReadColumn(in);
    if (!column.ok()) return column.status();
    summary.output_index_.emplace(std::string(name), summary.outputs_.size());
    summary.outputs_.emplace_back(std::string(name), *std::move(column));
  }
  if (in.left() != 0) return corrupt;
  return summary;
}

}  // namespace fabrique::monitoring
