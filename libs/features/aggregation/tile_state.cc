#include "libs/features/aggregation/tile_state.h"

#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fabrique::features {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tile states are stored little-endian; add byte swapping for this platform");

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
T Get(const char*& p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  p += sizeof(T);
  return value;
}

}  // namespace

void SlotState::Add(int64_t time_micros, double value) {
  if (count == 0) {
    min = max = value;
    last_time = time_micros;
    last_value = value;
  } else {
    min = std::min(min, value);
    max = std::max(max, value);
    if (time_micros >= last_time) {
      last_time = time_micros;
      last_value = value;
    }
  }
  ++count;
  sum += value;
  const double delta = value - mean;
  mean += delta / static_cast<double>(count);
  m2 += delta * (value - mean);
}

void SlotState::Merge(const SlotState& later) {
  if (later.count == 0) return;
  if (count == 0) {
    *this = later;
    return;
  }
  const double n_a = static_cast<double>(count);
  const double n_b = static_cast<double>(later.count);
  const double n = n_a + n_b;
  const double delta = later.mean - mean;
  mean += delta * n_b / n;
  m2 += later.m2 + delta * delta * n_a * n_b / n;
  count += later.count;
  sum += later.sum;
  min = std::min(min, later.min);
  max = std::max(max, later.max);
  if (later.last_time >= last_time) {
    last_time = later.last_time;
    last_value = later.last_value;
  }
}

std::optional<double> FinalizeSlot(v1::AggregationFunction function, const SlotState& state) {
  if (function == v1::AGGREGATION_FUNCTION_COUNT) return static_cast<double>(state.count);
  if (state.count == 0) return std::nullopt;
  switch (function) {
    case v1::AGGREGATION_FUNCTION_SUM:
      return state.sum;
    case v1::AGGREGATION_FUNCTION_MEAN:
      // sum / count rather than the running mean: exact on integer data, as pandas.
      return state.sum / static_cast<double>(state.count);
    case v1::AGGREGATION_FUNCTION_MIN:
      return state.min;
    case v1::AGGREGATION_FUNCTION_MAX:
      return state.max;
    case v1::AGGREGATION_FUNCTION_STDDEV:
      if (state.count < 2) return std::nullopt;
      return std::sqrt(std::max(0.0, state.m2) / static_cast<double>(state.count - 1));
    case v1::AGGREGATION_FUNCTION_LAST:
      return state.last_value;
    default:
      return std::nullopt;
  }
}

void TileState::Merge(const TileState& later) {
  if (later.slots_.size() > slots_.size()) slots_.resize(later.slots_.size());
  for (size_t i = 0; i < later.slots_.size(); ++i) slots_[i].Merge(later.slots_[i]);
}

void TileState::AppendTo(std::string* out) const {
  out->reserve(out->size() + kHeaderBytes + kSlotBytes * slots_.size());
  Put<uint32_t>(out, static_cast<uint32_t>(slots_.size()));
  for (const SlotState& s : slots_) {
    Put(out, s.count);
    Put(out, s.sum);
    Put(out, s.min);
    Put(out, s.max);
    Put(out, s.mean);
    Put(out, s.m2);
    Put(out, s.last_time);
    Put(out, s.last_value);
  }
}

std::string TileState::Encode() const {
  std::string out;
  AppendTo(&out);
  return out;
}

absl::StatusOr<TileState> TileState::Decode(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return absl::DataLossError(absl::StrCat("tile state of ", bytes.size(), " bytes"));
  }
  const char* p = bytes.data();
  const uint32_t slots = Get<uint32_t>(p);
  if (bytes.size() != kHeaderBytes + kSlotBytes * static_cast<size_t>(slots)) {
    return absl::DataLossError(
        absl::StrCat("tile state of ", bytes.size(), " bytes for ", slots, " slots"));
  }
  TileState state(static_cast<int>(slots));
  for (SlotState& s : state.slots_) {
    s.count = Get<int64_t>(p);
    s.sum = Get<double>(p);
    s.min = Get<double>(p);
    s.max = Get<double>(p);
    s.mean = Get<double>(p);
    s.m2 = Get<double>(p);
    s.last_time = Get<int64_t>(p);
    s.last_value = Get<double>(p);
  }
  return state;
}

}  // namespace fabrique::features
