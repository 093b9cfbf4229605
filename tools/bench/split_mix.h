#ifndef FABRIQUE_TOOLS_BENCH_SPLIT_MIX_H_
#define FABRIQUE_TOOLS_BENCH_SPLIT_MIX_H_

#include <cstdint>

namespace fabrique::bench {

// splitmix64: a tiny, fast, well-mixed deterministic generator (Vigna), so that every run of a
// benchmark and every baseline see the same generated rows.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0.
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SPLIT_MIX_H_
