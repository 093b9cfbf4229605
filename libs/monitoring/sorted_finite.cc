#include "libs/monitoring/sorted_finite.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace fabrique::monitoring {
namespace {

// Below this many values std::sort is as fast, without the radix sort's buffers.
constexpr size_t kMinRadixSize = 4096;
constexpr int kDigitBits = 11;
constexpr int kPasses = 6;  // 6 x 11 >= 64
constexpr size_t kBuckets = size_t{1} << kDigitBits;
constexpr uint64_t kSignBit = uint64_t{1} << 63;

uint64_t ToKey(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  // Negatives: every bit flipped (larger magnitude, smaller key); positives: the sign bit set.
  return bits ^ ((bits & kSignBit) != 0 ? ~uint64_t{0} : kSignBit);
}

double FromKey(uint64_t key) {
  const uint64_t bits = key ^ ((key & kSignBit) != 0 ? kSignBit : ~uint64_t{0});
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

void RadixSort(std::vector<uint64_t>& keys) {
  const size_t n = keys.size();
  std::vector<std::array<size_t, kBuckets>> counts(kPasses);
  for (auto& pass : counts) pass.fill(0);
  for (uint64_t key : keys) {
    for (int p = 0; p < kPasses; ++p) ++counts[p][(key >> (p * kDigitBits)) & (kBuckets - 1)];
  }
  std::vector<uint64_t> scratch(n);
  for (int p = 0; p < kPasses; ++p) {
    std::array<size_t, kBuckets>& offsets = counts[p];
    const int shift = p * kDigitBits;
    // Every key has the same digit here: the pass would not move anything.
    if (offsets[(keys[0] >> shift) & (kBuckets - 1)] == n) continue;
    size_t total = 0;
    for (size_t& count : offsets) {
      const size_t start = total;
      total += count;
      count = start;
    }
    for (uint64_t key : keys) scratch[offsets[(key >> shift) & (kBuckets - 1)]++] = key;
    keys.swap(scratch);
  }
}

}  // namespace

std::vector<double> SortedFiniteValues(absl::Span<const double> column, int64_t* missing) {
  std::vector<double> values;
  if (column.size() < kMinRadixSize) {
    values.reserve(column.size());
    for (double value : column) {
      if (std::isfinite(value)) values.push_back(value);
    }
    std::sort(values.begin(), values.end());
  } else {
    std::vector<uint64_t> keys;
    keys.reserve(column.size());
    for (double value : column) {
      if (std::isfinite(value)) keys.push_back(ToKey(value));
    }
    if (!keys.empty()) RadixSort(keys);
    values.resize(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) values[i] = FromKey(keys[i]);
  }
  if (missing != nullptr) *missing = static_cast<int64_t>(column.size() - values.size());
  return values;
}

}  // namespace fabrique::monitoring
