#include "libs/core/ids.h"

#include "absl/strings/str_cat.h"

namespace fabrique::core {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32.

int DecodeChar(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

// Writes the 128-bit value (6 time bytes + 10 random bytes) as 26 base32 characters, big end
// first; the leading character carries only 3 bits, as in the ULID spec.
std::string Encode(uint64_t ms, const std::array<uint8_t, 10>& random) {
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i) bytes[6 + i] = random[i];
  std::string out(kIdLength, '0');
  // 130 bits of output for 128 of input: process bits from the least significant end.
  int bit = 0;
  for (int pos = kIdLength - 1; pos >= 0; --pos) {
    int value = 0;
    for (int b = 0; b < 5; ++b, ++bit) {
      if (bit >= 128) break;
      const int byte = 15 - bit / 8;
      if ((bytes[byte] >> (bit % 8)) & 1) value |= 1 << b;
    }
    out[pos] = kAlphabet[value];
  }
  return out;
}

}  // namespace

IdGenerator::IdGenerator(Clock* clock, uint64_t seed)
    : clock_(clock != nullptr ? clock : Clock::Real()),
      rng_(seed != 0 ? seed : std::random_device{}()) {}

std::string IdGenerator::Next() {
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const uint64_t ms = now_ms < 0 ? 0 : static_cast<uint64_t>(now_ms) & ((1ULL << 48) - 1);
  absl::MutexLock lock(&mu_);
  if (ms > last_ms_) {
    last_ms_ = ms;
    for (auto& byte : last_random_) byte = static_cast<uint8_t>(rng_());
  } else {
    // Same millisecond (or the clock stepped back): keep the last time, bump the random part so
    // ids stay strictly increasing.
    for (int i = 9; i >= 0; --i) {
      if (++last_random_[i] != 0) break;
      if (i == 0) ++last_ms_;  // All 80 bits wrapped: borrow the next millisecond.
    }
  }
  return Encode(last_ms_, last_random_);
}

IdGenerator& IdGenerator::Default() {
  static IdGenerator* const generator = new IdGenerator();
  return *generator;
}

absl::StatusOr<absl::Time> IdTime(const std::string& id) {
  if (id.size() != kIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("id '", id, "' has ", id.size(), " characters; ids have ", kIdLength));
  }
  for (const char c : id) {
    if (DecodeChar(c) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("id '", id, "' has '", std::string(1, c), "', not Crockford base32"));
    }
  }
  // The first 10 characters hold 50 bits: the 2 padding bits of the leading character, then the
  // 48 time bits.
  uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    value = (value << 5) | static_cast<uint64_t>(DecodeChar(id[i]));
  }
  if (DecodeChar(id[0]) > 7) {
    return absl::InvalidArgumentError(absl::StrCat("id '", id, "' overflows 128 bits"));
  }
  return absl::FromUnixMillis(static_cast<int64_t>(value));
}

}  // namespace fabrique::core
