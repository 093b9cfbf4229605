#include "libs/serving/canary_router.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/hash_chain.h"

namespace fabrique::serving {
namespace {

// SplitMix64's finaliser: consecutive inputs give well-mixed, independent-looking outputs.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

CanaryRouter::CanaryRouter(uint64_t seed) : seed_(seed != 0 ? seed : RandomSeed()) {}

int64_t CanaryRouter::Bucket(absl::string_view model, absl::string_view entity_key) {
  const std::string hex = core::Sha256Hex(absl::StrCat(model, "\n", entity_key));
  uint64_t first8 = 0;
  // 16 hex digits are the first 8 bytes, most significant first: the big-endian reading. A
  // digest's hex always parses.
  if (!absl::SimpleHexAtoi(absl::string_view(hex).substr(0, 16), &first8)) first8 = 0;
  return static_cast<int64_t>(first8 % static_cast<uint64_t>(kBuckets));
}

int64_t CanaryRouter::Threshold(double canary_percent) {
  if (!(canary_percent > 0)) return 0;  // Also NaN.
  return std::min<int64_t>(kBuckets, std::llround(canary_percent * 100));
}

std::string CanaryRouter::EntityKey(const std::vector<std::string>& keys) {
  return absl::StrJoin(keys, "|");
}

bool CanaryRouter::ByEntity(absl::string_view model, absl::string_view entity_key,
                            double canary_percent) {
  const int64_t threshold = Threshold(canary_percent);
  if (threshold == 0) return false;
  if (threshold == kBuckets) return true;
  return Bucket(model, entity_key) < threshold;
}

bool CanaryRouter::AtRandom(double canary_percent) {
  const int64_t threshold = Threshold(canary_percent);
  if (threshold == 0) return false;
  if (threshold == kBuckets) return true;
  const uint64_t n = draws_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t draw = SplitMix64(seed_ + n * 0x9e3779b97f4a7c15ULL);  // SplitMix64's stream.
  return static_cast<int64_t>(draw % static_cast<uint64_t>(kBuckets)) < threshold;
}

}  // namespace fabrique::serving
