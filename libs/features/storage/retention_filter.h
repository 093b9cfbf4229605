#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_RETENTION_FILTER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_RETENTION_FILTER_H_

// Retention: history rows older than their group's retention period are dropped by RocksDB's
// compactions, never by a scan. A compaction filter on the history family reads each key's group
// (its first component) and event time (its last 8 bytes) and drops the row when
//
//   event_time < now - retention(group)
//
// `now` is read once per compaction from an injected clock, so tests drive expiry with a
// FakeClock and Store::Compact. Retention periods live in RetentionPolicies, a thread-safe map
// the service updates whenever a group is applied (0 = keep forever); each compaction copies it
// once, so compactions never contend with updates per key. Rows of groups absent from the map are
// kept. The online view is not filtered (TTL governs it, at read time).
//
//   auto policies = std::make_shared<RetentionPolicies>();
//   kv::StoreOptions store_options = ...;
//   InstallRetentionFilter(&store_options, "history", policies, clock);
//   ... open the store ...
//   policies->Set("payments", absl::Hours(24 * 365));

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/kv/options.h"

namespace fabrique::features {

// Map from group name to retention period. Thread-safe.
class RetentionPolicies {
 public:
  // Keyed by the group's encoded key prefix (GroupKeyPrefix), values in microseconds.
  using Snapshot = absl::flat_hash_map<std::string, int64_t>;

  // Sets `group`'s retention; zero or negative removes it (keep forever).
  void Set(absl::string_view group, absl::Duration retention);
  void Remove(absl::string_view group);
  // The current policies, copied.
  Snapshot Copy() const;

 private:
  mutable absl::Mutex mu_;
  Snapshot by_prefix_ ABSL_GUARDED_BY(mu_);
};

// Installs the retention filter on `history_family` through options->configure_family, keeping
// any configure_family already set. `policies` and `clock` are shared with / must outlive the
// Store (the clock is not owned).
void InstallRetentionFilter(kv::StoreOptions* options, const std::string& history_family,
                            std::shared_ptr<const RetentionPolicies> policies,
                            const core::Clock* clock);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_RETENTION_FILTER_H_
