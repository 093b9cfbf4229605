#ifndef FABRIQUE_LIBS_CORE_IDS_H_
#define FABRIQUE_LIBS_CORE_IDS_H_

// Time-sortable ids (the ULID layout): 48 bits of Unix milliseconds then 80 random bits, written
// as 26 characters of Crockford base32. Sorting ids as strings sorts them by creation time, which
// keeps RocksDB keys of runs, jobs and requests in time order without a second index.

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"

namespace fabrique::core {

inline constexpr size_t kIdLength = 26;

// Makes ids that are unique and strictly increasing within one generator, even when many are
// made in the same millisecond (the random part is then incremented). Thread-safe.
class IdGenerator {
 public:
  // `clock` must outlive the generator; nullptr means the real clock. `seed` 0 seeds from
  // std::random_device; tests pass a fixed seed.
  explicit IdGenerator(Clock* clock = nullptr, uint64_t seed = 0);

  // Returns a new id, e.g. "01JD3Z6Q8X4T9V2M7K5R1B0C3H".
  std::string Next();

  // Returns the process-wide generator on the real clock.
  static IdGenerator& Default();

 private:
  Clock* clock_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  uint64_t last_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::array<uint8_t, 10> last_random_ ABSL_GUARDED_BY(mu_) = {};
};

// Returns the creation time encoded in `id`, or INVALID_ARGUMENT if `id` is not a valid id.
absl::StatusOr<absl::Time> IdTime(const std::string& id);

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_IDS_H_
