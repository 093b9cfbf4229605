#include "libs/features/aggregation/tile_state.h"

#include <cmath>
#include <cstddef>
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

uint8_t SlotFieldsOf(v1::AggregationFunction function) {
  switch (function) {
    case v1::AGGREGATION_FUNCTION_SUM:
    case v1::AGGREGATION_FUNCTION_MEAN:
      return kSlotSum;
    case v1::AGGREGATION_FUNCTION_MIN:
      return kSlotMin;
    case v1::AGGREGATION_FUNCTION_MAX:
      return kSlotMax;
    case v1::AGGREGATION_FUNCTION_STDDEV:
      return kSlotSpread;
    case v1::AGGREGATION_FUNCTION_LAST:
      return kSlotLast;
    default:
      return 0;
  }
}

size_t TileState::SlotBytes(uint8_t fields, int64_t count) {
  size_t bytes = sizeof(uint8_t) + sizeof(int64_t);
  if (count == 0) return bytes;
  if (fields & kSlotSum) bytes += sizeof(double);
  if (fields & kSlotMin) bytes += sizeof(double);
  if (fields & kSlotMax) bytes += sizeof(double);
  if (fields & kSlotSpread) bytes += 2 * sizeof(double);
  if (fields & kSlotLast) bytes += sizeof(int64_t) + sizeof(double);
  return bytes;
}

void TileState::Merge(const TileState& later) {
  if (later.slots_.size() > slots_.size()) {
    slots_.resize(later.slots_.size());
    fields_.resize(later.slots_.size(), 0);
  }
  for (size_t i = 0; i < later.slots_.size(); ++i) {
    slots_[i].Merge(later.slots_[i]);
    fields_[i] |= later.fields_[i];
  }
}

void TileState::Reset() {
  for (SlotState& s : slots_) s = SlotState();
}

void TileState::AppendTo(std::string* out) const {
  size_t bytes = kHeaderBytes;
  for (size_t i = 0; i < slots_.size(); ++i) bytes += SlotBytes(fields_[i], slots_[i].count);
  out->reserve(out->size() + bytes);
  Put<uint32_t>(out, static_cast<uint32_t>(slots_.size()));
  for (size_t i = 0; i < slots_.size(); ++i) {
    const SlotState& s = slots_[i];
    const uint8_t fields = fields_[i];
    Put(out, fields);
    Put(out, s.count);
    if (s.count == 0) continue;
    if (fields & kSlotSum) Put(out, s.sum);
    if (fields & kSlotMin) Put(out, s.min);
    if (fields & kSlotMax) Put(out, s.max);
    if (fields & kSlotSpread) {
      Put(out, s.mean);
      Put(out, s.m2);
    }
    if (fields & kSlotLast) {
      Put(out, s.last_time);
      Put(out, s.last_value);
    }
  }
}

std::string TileState::Encode() const {
  std::string out;
  AppendTo(&out);
  return out;
}

namespace {

// Calls on_slot(index, fields, state) for each slot of an encoded state, after checking the
// whole encoding; false (and no call) when `bytes` is not one.
template <typename OnSlot>
bool ForEachEncodedSlot(absl::string_view bytes, OnSlot on_slot) {
  if (bytes.size() < TileState::kHeaderBytes) return false;
  const char* p = bytes.data();
  const char* const end = bytes.data() + bytes.size();
  const uint32_t slots = Get<uint32_t>(p);
  // Check the sizes first, so that a malformed encoding changes nothing.
  const char* q = p;
  for (uint32_t i = 0; i < slots; ++i) {
    if (end - q < static_cast<ptrdiff_t>(sizeof(uint8_t) + sizeof(int64_t))) return false;
    const uint8_t fields = Get<uint8_t>(q);
    const int64_t count = Get<int64_t>(q);
    if ((fields & ~kAllSlotFields) != 0 || count < 0) return false;
    const size_t rest = TileState::SlotBytes(fields, count) - sizeof(uint8_t) - sizeof(int64_t);
    if (static_cast<size_t>(end - q) < rest) return false;
    q += rest;
  }
  if (q != end) return false;
  SlotState s;
  for (uint32_t i = 0; i < slots; ++i) {
    s = SlotState();
    const uint8_t fields = Get<uint8_t>(p);
    s.count = Get<int64_t>(p);
    if (s.count > 0) {
      if (fields & kSlotSum) s.sum = Get<double>(p);
      if (fields & kSlotMin) s.min = Get<double>(p);
      if (fields & kSlotMax) s.max = Get<double>(p);
      if (fields & kSlotSpread) {
        s.mean = Get<double>(p);
        s.m2 = Get<double>(p);
      }
      if (fields & kSlotLast) {
        s.last_time = Get<int64_t>(p);
        s.last_value = Get<double>(p);
      }
    }
    on_slot(static_cast<int>(i), fields, s);
  }
  return true;
}

}  // namespace

bool TileState::WellFormed(absl::string_view bytes) {
  return ForEachEncodedSlot(bytes, [](int, uint8_t, const SlotState&) {});
}

absl::Status TileState::MergeEncoded(absl::string_view bytes) {
  if (bytes.size() >= kHeaderBytes) {
    uint32_t slots;
    std::memcpy(&slots, bytes.data(), sizeof(slots));
    // At least 9 bytes a slot: a count that does not fit is corruption, not a size to allocate.
    if (slots <= bytes.size() / (sizeof(uint8_t) + sizeof(int64_t)) && slots > slots_.size()) {
      // Grown before the walk so that the walk itself cannot fail half way.
      if (WellFormed(bytes)) {
        slots_.resize(slots);
        fields_.resize(slots, 0);
      }
    }
  }
  const bool ok = ForEachEncodedSlot(bytes, [this](int i, uint8_t fields, const SlotState& s) {
    slots_[i].Merge(s);
    fields_[i] |= fields;
  });
  if (!ok) {
    return absl::DataLossError(absl::StrCat("malformed tile state of ", bytes.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TileState> TileState::Decode(absl::string_view bytes) {
  TileState state;
  absl::Status merged = state.MergeEncoded(bytes);
  if (!merged.ok()) return merged;
  return state;
}

}  // namespace fabrique::features
