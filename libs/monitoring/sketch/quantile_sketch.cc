#include "libs/monitoring/sketch/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/monitoring/sketch/sketch_bytes.h"

namespace fabrique::monitoring {
namespace {

constexpr int kMinK = 8;
constexpr int kMaxK = 65535;
constexpr int64_t kMaxExactLimit = 1000000;
// No level is ever smaller than this: tiny levels would compact at every update.
constexpr int kMinLevelCapacity = 8;
// Levels of a sketch whose weights still fit an int64 count.
constexpr int kMaxLevels = 61;
constexpr char kMagic[] = "FQKS";
constexpr uint8_t kFormatVersion = 1;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status Corrupt(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("not a quantile sketch: ", what));
}

}  // namespace

QuantileSketch::QuantileSketch(Options options)
    : k_(std::clamp(options.k, kMinK, kMaxK)),
      exact_limit_(std::clamp<int64_t>(options.exact_limit, 0, kMaxExactLimit)),
      rng_state_(options.seed),
      min_(kNaN),
      max_(kNaN),
      levels_(1) {
  Recount();
}

double QuantileSketch::NormalizedRankError(int k) {
  // Apache DataSketches' empirical fit of the 99th percentile of the largest error, for shares
  // between two points (double-sided); single ranks do better (2.296 / k^0.9723).
  return 2.446 / std::pow(static_cast<double>(std::clamp(k, kMinK, kMaxK)), 0.9433);
}

int QuantileSketch::LevelCapacity(int level, int levels) const {
  double capacity = k_;
  for (int depth = levels - 1 - level; depth > 0; --depth) capacity *= 2.0 / 3.0;
  return std::max(kMinLevelCapacity, static_cast<int>(std::ceil(capacity)));
}

int64_t QuantileSketch::TotalCapacity() const {
  // From the top level down, each 2/3 of the one above (one pass; this runs at every update).
  int64_t total = 0;
  double capacity = k_;
  for (size_t h = 0; h < levels_.size(); ++h, capacity *= 2.0 / 3.0) {
    total += std::max(kMinLevelCapacity, static_cast<int>(std::ceil(capacity)));
  }
  return total;
}

void QuantileSketch::Recount() {
  retained_ = 0;
  for (const std::vector<double>& level : levels_) retained_ += static_cast<int64_t>(level.size());
  capacity_ = TotalCapacity();
}

uint64_t QuantileSketch::NextRandom() {
  // SplitMix64: one 64-bit word of state, so the serialised sketch resumes the same sequence.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void QuantileSketch::Update(double value) {
  if (std::isnan(value)) return;
  if (count_ == 0 || value < min_) min_ = value;
  if (count_ == 0 || value > max_) max_ = value;
  ++count_;
  levels_[0].push_back(value);
  ++retained_;
  Compress();
}

void QuantileSketch::Compress() {
  if (count_ <= exact_limit_) return;
  while (retained_ > capacity_) {
    const int levels = static_cast<int>(levels_.size());
    int level = 0;
    while (level < levels - 1 &&
           static_cast<int64_t>(levels_[level].size()) < LevelCapacity(level, levels)) {
      ++level;
    }
    // Nothing left to halve, or no level above (2^61 values): keep the items.
    if (levels_[level].size() < 2 || !CompactLevel(level)) return;
  }
}

bool QuantileSketch::CompactLevel(int level) {
  if (level + 1 >= static_cast<int>(levels_.size())) {
    if (static_cast<int>(levels_.size()) >= kMaxLevels) return false;
    levels_.emplace_back();
    capacity_ = TotalCapacity();
  }
  std::vector<double>& items = levels_[level];
  if (level == 0) std::sort(items.begin(), items.end());
  // An odd item stays at this level with its weight; the pairs below it are halved.
  double kept = 0;
  const bool odd = items.size() % 2 == 1;
  if (odd) {
    kept = items.back();
    items.pop_back();
  }
  const size_t offset = NextRandom() & 1;
  std::vector<double>& up = levels_[level + 1];
  const size_t before = up.size();
  for (size_t i = offset; i < items.size(); i += 2) up.push_back(items[i]);
  std::inplace_merge(up.begin(), up.begin() + static_cast<std::ptrdiff_t>(before), up.end());
  retained_ -= static_cast<int64_t>(items.size() - (up.size() - before));
  items.clear();
  if (odd) items.push_back(kept);
  return true;
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (&other == this) {  // Levels would be appended to themselves.
    const QuantileSketch copy = other;
    return Merge(copy);
  }
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  k_ = std::min(k_, other.k_);
  if (other.levels_.size() > levels_.size()) levels_.resize(other.levels_.size());
  for (size_t h = 0; h < other.levels_.size(); ++h) {
    std::vector<double>& mine = levels_[h];
    const size_t before = mine.size();
    mine.insert(mine.end(), other.levels_[h].begin(), other.levels_[h].end());
    if (h > 0) {
      std::inplace_merge(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(before),
                         mine.end());
    }
  }
  Recount();
  Compress();
}

double QuantileSketch::Rank(double x) const {
  if (count_ == 0) return 0;
  int64_t weight = 0;
  for (const double v : levels_[0]) weight += v <= x;
  for (size_t h = 1; h < levels_.size(); ++h) {
    const auto& level = levels_[h];
    const int64_t below = std::upper_bound(level.begin(), level.end(), x) - level.begin();
    weight += below << h;
  }
  return static_cast<double>(weight) / static_cast<double>(count_);
}

std::vector<QuantileSketch::WeightedValue> QuantileSketch::SortedView() const {
  std::vector<WeightedValue> view;
  view.reserve(static_cast<size_t>(retained()));
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (const double v : levels_[h]) view.push_back({v, int64_t{1} << h});
  }
  std::sort(view.begin(), view.end(),
            [](const WeightedValue& a, const WeightedValue& b) { return a.value < b.value; });
  return view;
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return kNaN;
  if (!(q > 0)) return min_;  // Also NaN.
  if (q >= 1) return max_;
  // The rank wanted, in values; a millionth of a value is forgiven so that q = i / n, which
  // rounds to just above i / n, still asks for the i-th value.
  const int64_t target =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_) - 1e-6)));
  int64_t seen = 0;
  for (const WeightedValue& item : SortedView()) {
    seen += item.weight;
    if (seen >= target) return item.value;
  }
  return max_;
}

std::string QuantileSketch::Serialize() const {
  ByteWriter out;
  out.Raw(kMagic);
  out.U8(kFormatVersion);
  out.U32(static_cast<uint32_t>(k_));
  out.U64(static_cast<uint64_t>(exact_limit_));
  out.U64(rng_state_);
  out.U64(static_cast<uint64_t>(count_));
  out.F64(min_);
  out.F64(max_);
  out.U32(static_cast<uint32_t>(levels_.size()));
  for (const std::vector<double>& level : levels_) {
    out.U32(static_cast<uint32_t>(level.size()));
    for (const double v : level) out.F64(v);
  }
  return out.Take();
}

absl::StatusOr<QuantileSketch> QuantileSketch::Parse(absl::string_view bytes) {
  ByteReader in(bytes);
  absl::string_view magic;
  uint8_t version = 0;
  if (!in.Raw(4, &magic) || magic != absl::string_view(kMagic, 4)) return Corrupt("bad magic");
  if (!in.U8(&version)) return Corrupt("truncated header");
  if (version != kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("quantile sketch format version ", version,
                                                   " is not known (this build reads version ",
                                                   kFormatVersion, ")"));
  }
  uint32_t k = 0, levels = 0;
  uint64_t exact_limit = 0, rng = 0, count = 0;
  double low = 0, high = 0;
  if (!in.U32(&k) || !in.U64(&exact_limit) || !in.U64(&rng) || !in.U64(&count) || !in.F64(&low) ||
      !in.F64(&high) || !in.U32(&levels)) {
    return Corrupt("truncated header");
  }
  if (k < kMinK || k > kMaxK) return Corrupt(absl::StrCat("k ", k, " out of range"));
  if (exact_limit > kMaxExactLimit) return Corrupt("exact limit out of range");
  if (levels < 1 || levels > kMaxLevels) return Corrupt(absl::StrCat(levels, " levels"));
  if (count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Corrupt("count");
  QuantileSketch sketch(Options{static_cast<int>(k), static_cast<int64_t>(exact_limit), rng});
  sketch.count_ = static_cast<int64_t>(count);
  sketch.min_ = count > 0 ? low : kNaN;
  sketch.max_ = count > 0 ? high : kNaN;
  if (count > 0 && !(low <= high)) return Corrupt("minimum above maximum");
  sketch.levels_.resize(levels);
  uint64_t weight = 0;
  for (uint32_t h = 0; h < levels; ++h) {
    uint32_t size = 0;
    if (!in.U32(&size)) return Corrupt("truncated level");
    if (size > in.left() / 8) return Corrupt("level longer than the bytes");
    std::vector<double>& level = sketch.levels_[h];
    level.resize(size);
    for (uint32_t i = 0; i < size; ++i) {
      in.F64(&level[i]);
      if (!(level[i] >= low && level[i] <= high)) return Corrupt("value outside [min, max]");
    }
    if (h > 0 && !std::is_sorted(level.begin(), level.end())) return Corrupt("unsorted level");
    // Checked before shifting, so that no weight overflows.
    if (size > ((count - weight) >> h)) return Corrupt("weights exceed the count");
    weight += static_cast<uint64_t>(size) << h;
  }
  if (weight != count) return Corrupt("weights do not sum to the count");
  if (in.left() != 0) return Corrupt("trailing bytes");
  sketch.Recount();
  return sketch;
}

}  // namespace fabrique::monitoring
