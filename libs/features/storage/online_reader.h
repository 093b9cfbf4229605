#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_READER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_READER_H_

// OnlineReader: the hot-path lookup of the latest feature values, many entities by many features
// across several groups in one call, answered straight into a LookupOnlineResponse.
//
// One MultiGet per group, all under one snapshot, so a lookup sees a single consistent state even
// while batches commit; with a RowCache, the entities it holds are copied from it instead, still
// as of that one state (row_cache.h). Readers never wait for writers' commits: RocksDB reads are
// lock-free against writes, and the cache's shard locks are held only to copy a row or mark keys.
//
// Per value: PRESENT with the value (and its event time), MISSING when the entity has no row or
// its latest row holds a null for the feature (or predates the feature), or EXPIRED when the row
// is older than the group's TTL at read time (now - event_time > ttl): an expired value is never
// returned. Non-PRESENT entries hold the type's zero value and event time 0.
//
// Thread-safe.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/features/storage/row_cache.h"
#include "libs/features/storage/row_schema.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct OnlineReaderOptions {
  // The store. Not owned; must outlive the reader. Required.
  kv::Store* store = nullptr;
  // The time TTL is measured against. Not owned. Default: the real clock.
  const core::Clock* clock = core::Clock::Real();
  // Default: "online".
  std::string online_family = "online";
  // Rows of recently looked-up entities (row_cache.h), shared with the writers of the online
  // family, which keep it coherent. Not owned. Default: none.
  RowCache* cache = nullptr;
};

class OnlineReader {
 public:
  using Options = OnlineReaderOptions;

  // INVALID_ARGUMENT without a store or clock; NOT_FOUND when the family is missing.
  static absl::StatusOr<std::unique_ptr<OnlineReader>> Create(Options options);

  // Reads `request.features` for each row of `request.entity_keys` into `response` (cleared
  // first): one column per requested feature, in request order. `groups` holds the current
  // definition of every group the features name (others are ignored). Errors:
  //   NOT_FOUND         a feature's group is not in `groups`, or the group has no such feature
  //   INVALID_ARGUMENT  entity key columns of different lengths, or none for a group's entity
  //   DATA_LOSS         a stored row is corrupt
  //   UNAVAILABLE       with `memory_only`, a row that is not in memory (kv::IsNotInMemory)
  // `memory_only` reads the memtables and block cache alone and never waits for the disk.
  absl::Status Lookup(const v1::LookupOnlineRequest& request,
                      absl::Span<const v1::FeatureGroup* const> groups,
                      v1::LookupOnlineResponse* response, bool memory_only = false) const;

 private:
  // A group's row schema as built for one definition, and what identifies that definition.
  struct CachedSchema {
    int32_t version = 0;
    int64_t ttl_seconds = 0, ttl_nanos = 0, retention_seconds = 0, retention_nanos = 0;
    std::shared_ptr<const RowSchema> schema;
  };

  OnlineReader(Options options, kv::ColumnFamily online)
      : options_(std::move(options)), online_(online) {}

  // The row schema of `group`'s definition, built on its first lookup and kept: a schema
  // version's features never change, so (name, version, TTL, retention) identify it. Building it
  // per call (a name map of every feature) was a visible share of a 1-entity lookup.
  absl::StatusOr<std::shared_ptr<const RowSchema>> SchemaOf(const v1::FeatureGroup& group) const;

  const Options options_;
  const kv::ColumnFamily online_;
  mutable absl::Mutex schemas_mu_;
  mutable absl::flat_hash_map<std::string, CachedSchema> schemas_ ABSL_GUARDED_BY(schemas_mu_);
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ONLINE_READER_H_
