#include "libs/serving/prediction_ids.h"

#include "libs/core/ids.h"

namespace fabrique::serving {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32.
using Id = unsigned __int128;

constexpr int kRandomBits = 80;
constexpr uint64_t kTimeMask = (1ULL << 48) - 1;

// The 128 bits (time, then random) as 26 characters, five bits each from the low end; the
// leading character carries the top 3 bits.
std::string Encode(Id value) {
  std::string id(core::kIdLength, '0');
  for (int pos = static_cast<int>(core::kIdLength) - 1; pos >= 0; --pos) {
    id[pos] = kAlphabet[static_cast<unsigned>(value) & 31];
    value >>= 5;
  }
  return id;
}

}  // namespace

PredictionIdGenerator::PredictionIdGenerator(core::Clock* clock, uint64_t seed)
    : clock_(clock != nullptr ? clock : core::Clock::Real()),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

std::vector<std::string> PredictionIdGenerator::Next(int64_t count) {
  std::vector<std::string> ids;
  if (count <= 0) return ids;
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const Id ms = now_ms < 0 ? 0 : static_cast<uint64_t>(now_ms) & kTimeMask;
  Id id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (ms > next_ >> kRandomBits) {
      // A new millisecond: a fresh random start. Otherwise (the same millisecond, or the clock
      // stepped back) the ids count on from the last, a random part that wraps borrowing the
      // next millisecond, so they stay strictly increasing.
      const Id high = rng_() & 0xffff;
      next_ = (ms << kRandomBits) | (high << 64) | rng_();
    }
    id = next_;
    next_ += static_cast<uint64_t>(count);
  }
  // Encoded outside the lock: the values are this call's alone.
  ids.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) ids.push_back(Encode(id++));
  return ids;
}

PredictionIdGenerator& PredictionIdGenerator::Default() {
  static PredictionIdGenerator* const generator = new PredictionIdGenerator();
  return *generator;
}

std::vector<std::string> NewPredictionIds(int64_t count) {
  return PredictionIdGenerator::Default().Next(count);
}

}  // namespace fabrique::serving
