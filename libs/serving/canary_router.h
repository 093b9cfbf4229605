#ifndef FABRIQUE_LIBS_SERVING_CANARY_ROUTER_H_
#define FABRIQUE_LIBS_SERVING_CANARY_ROUTER_H_

// Decides which rows a model's canary share sends to its candidate version.
//
// By entity (the default): h = SHA-256(model + "\n" + entity_key); bucket = the first 8 bytes of
// h as a big-endian uint64, modulo 10000; the row goes to the candidate when
// bucket < round(canary_percent * 100). Every client language computes the same bucket, so an
// entity sees the same version wherever it is scored; the model name salts the hash, so two
// models split the same entity independently. A row with several entities hashes their keys
// joined in request order with "|" (EntityKey below).
//
// At random (the policy says RANDOM, or the row has no entity key): each call draws from a
// SplitMix64 stream keyed by a seed and a shared atomic counter: thread-safe without a lock, a
// few nanoseconds a call, and reproducible in tests that pass a seed.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fabrique::serving {

class CanaryRouter {
 public:
  // Buckets per hundred percent: a share is honoured to 0.01 %.
  static constexpr int64_t kBuckets = 10000;

  // `seed` keys the random draws; 0 = a seed from std::random_device.
  explicit CanaryRouter(uint64_t seed = 0);

  // The bucket of `entity_key` for `model`, in [0, kBuckets).
  static int64_t Bucket(absl::string_view model, absl::string_view entity_key);
  // round(canary_percent * 100), clamped to [0, kBuckets]: the buckets sent to the candidate.
  static int64_t Threshold(double canary_percent);
  // The entity key of a row with several entities: their keys in request order, joined by "|".
  static std::string EntityKey(const std::vector<std::string>& keys);

  // Whether the row of `entity_key` goes to the candidate under `canary_percent` (0..100).
  static bool ByEntity(absl::string_view model, absl::string_view entity_key,
                       double canary_percent);
  // Whether one request drawn at random goes to the candidate under `canary_percent`.
  bool AtRandom(double canary_percent);

 private:
  const uint64_t seed_;
  std::atomic<uint64_t> draws_{0};
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_CANARY_ROUTER_H_
