#ifndef FABRIQUE_LIBS_SERVING_PREDICTION_IDS_H_
#define FABRIQUE_LIBS_SERVING_PREDICTION_IDS_H_

// Prediction ids, made in bulk: an entity request scores up to a thousand rows and answers an id
// for each. The ids have the layout of libs/core/ids.h (a ULID: 48 bits of Unix milliseconds,
// then 80 random bits, as 26 characters of Crockford base32), so they sort by time and
// core::IdTime reads them. A request's ids take the lock and read the clock once, then count up
// from one random start: at 100 rows, made one by one through core::IdGenerator (its lock, its
// clock and its bit-by-bit encoding each time), they cost the entity Predict about 18 us a call.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "libs/core/clock.h"

namespace fabrique::serving {

// Makes ids unique across processes and restarts (80 random bits, drawn again every
// millisecond) and strictly increasing within one generator, even when many are made in the same
// millisecond (the random part then counts up). Thread-safe.
class PredictionIdGenerator {
 public:
  // `clock` must outlive the generator; nullptr means the real clock. `seed` 0 seeds from
  // std::random_device; tests pass a fixed seed.
  explicit PredictionIdGenerator(core::Clock* clock = nullptr, uint64_t seed = 0);

  // Returns `count` new ids (none for count <= 0), in increasing order.
  std::vector<std::string> Next(int64_t count);

  // Returns the process-wide generator on the real clock: every prediction id of the server.
  static PredictionIdGenerator& Default();

 private:
  core::Clock* const clock_;
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  // The next id as one number: its milliseconds in the high 48 bits, its random part below.
  unsigned __int128 next_ ABSL_GUARDED_BY(mu_) = 0;
};

// `count` new prediction ids from the process-wide generator, in increasing order.
std::vector<std::string> NewPredictionIds(int64_t count);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_PREDICTION_IDS_H_
