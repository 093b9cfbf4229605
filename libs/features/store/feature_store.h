#ifndef FABRIQUE_LIBS_FEATURES_STORE_FEATURE_STORE_H_
#define FABRIQUE_LIBS_FEATURES_STORE_FEATURE_STORE_H_

// The feature store's domain core: one object that puts the catalog, the storage engine and
// lineage together behind the operations the gRPC adapter exposes. It never sees gRPC; every
// error is an absl::Status the adapter maps.
//
//   kv::StoreOptions options = ...;  FeatureStore::ConfigureStore(&options, &clock, policies);
//   ASSIGN_OR_RETURN(auto store, kv::Store::Open(options));
//   ASSIGN_OR_RETURN(auto features, FeatureStore::Create({store.get(), &clock, policies}));
//   ASSIGN_OR_RETURN(v1::IngestBatchResult result, features->Ingest(request));

#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/features/access/access_log.h"
#include "libs/features/catalog/catalog.h"
#include "libs/features/lineage/lineage_store.h"
#include "libs/features/storage/bulk_loader.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/online_reader.h"
#include "libs/features/storage/retention_filter.h"
#include "libs/features/storage/row_cache.h"
#include "libs/features/store/aggregation_groups.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct FeatureStoreOptions {
  // The store, opened with the options ConfigureStore set. Not owned; must outlive the
  // FeatureStore. Required.
  kv::Store* store = nullptr;
  // Time for TTL, retention and records. Not owned. Default: nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Retention periods read by the history compaction filter; the FeatureStore keeps them in
  // step with the catalog. Must be the object given to ConfigureStore. Required.
  std::shared_ptr<RetentionPolicies> retention;
  // How an ingest call is made durable before it is acknowledged. Default: group commit.
  Durability durability = Durability::kGroupCommit;
  // Batch ids remembered for idempotent re-sends (IngestRequest.batch_id). Default: 10000.
  int remembered_batches = 10000;
  // Rejects described per batch (the rest are counted). Default: 1000.
  int max_reject_details = 1000;
  // Reads of personal data waiting to be written to the access log before a read is refused
  // (AccessLogOptions::max_queued). Default: 65536.
  int max_queued_access_entries = 65536;
  // Bytes of merged tiles kept for aggregate lookups of recently read entities
  // (AggregationGroupsOptions::tile_cache_bytes); 0 = none. Default: 64 MiB.
  size_t tile_cache_bytes = TileCacheOptions().capacity_bytes;
  // Bytes of online rows kept for lookups of recently read entities (RowCacheOptions::
  // capacity_bytes); 0 = none. Default: 256 MiB.
  size_t online_cache_bytes = RowCacheOptions().capacity_bytes;
};

class FeatureStore {
 public:
  using Options = FeatureStoreOptions;

  // Column families the store must have.
  static const std::vector<std::string>& ColumnFamilies();
  // Sets the store options the feature store needs (its families, the retention filter).
  static void ConfigureStore(kv::StoreOptions* options, const core::Clock* clock,
                             std::shared_ptr<const RetentionPolicies> retention);

  static absl::StatusOr<std::unique_ptr<FeatureStore>> Create(Options options);

  Catalog& catalog() { return *catalog_; }
  LineageStore& lineage() { return *lineage_; }
  const AggregationGroups& aggregations() const { return *aggregations_; }
  // The cache of online rows; null when online_cache_bytes is 0.
  const RowCache* online_cache() const { return online_cache_.get(); }
  // The access log of personal data; reads append to it once they are allowed.
  AccessLog& access_log() { return *access_log_; }

  // Applies a feature group and updates its retention policy. See Catalog::ApplyFeatureGroup,
  // and AggregationGroups::Apply for aggregation groups, whose backfill calls `progress`.
  absl::StatusOr<v1::ApplyFeatureGroupResponse> ApplyFeatureGroup(
      const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller,
      const BackfillProgress& progress = nullptr);

  // When Ingest's rows become durable.
  enum class IngestSync {
    kBeforeReturn,  // Ingest returns once they are (an fsync shared with concurrent callers).
    // Ingest returns once they are committed and in the write-ahead log; the caller makes them
    // durable with SyncIngested() before acknowledging them: one fsync for a whole stream.
    kDeferred,
  };

  // Validates one batch against the group's current schema and expectations, then writes the
  // good rows (none when all_or_nothing and any row is bad) to history and online in one atomic
  // commit, durable as `sync` says. A bulk request writes history by SST ingestion (durable at
  // once whatever `sync`), then merges online. A batch_id seen recently returns the first result
  // marked duplicate and writes nothing. Batch-level errors: NOT_FOUND (group, feature),
  // INVALID_ARGUMENT (shape, types); nothing is written then.
  absl::StatusOr<v1::IngestBatchResult> Ingest(const v1::IngestRequest& request,
                                               IngestSync sync = IngestSync::kBeforeReturn);
  // Makes every batch Ingest has returned so far durable.
  absl::Status SyncIngested() { return writer_->Sync(); }

  // Whether the caller may read a group, judged on its current definition: OK, or the refusal
  // the read returns as is. `personal` names the group's features classified PERSONAL_DATA that
  // the call reads (sorted, each once; empty when none), which need more than the group's read
  // permission.
  using GroupAccess = absl::FunctionRef<absl::Status(const v1::FeatureGroup& group,
                                                     absl::Span<const std::string> personal)>;
  static absl::Status AnyGroup(const v1::FeatureGroup&, absl::Span<const std::string>) {
    return absl::OkStatus();
  }

  // Online lookup across groups; TTL enforced at read time. See OnlineReader::Lookup (and its
  // `memory_only`, which fails with kv::IsNotInMemory rather than read the disk). Every group
  // named is first passed to `may_read`, with the personal features asked of it, from the
  // catalog snapshot the lookup resolves them in, so access to the groups and to personal data
  // costs no read of the store.
  absl::Status LookupOnline(const v1::LookupOnlineRequest& request,
                            v1::LookupOnlineResponse* response, bool memory_only = false,
                            GroupAccess may_read = AnyGroup) const;

  // Streams a group's history in chunks. See HistoryReader::Read. The group is first passed to
  // `may_read` with the personal features the request reads (all of them when it names none).
  absl::Status ReadHistory(const v1::ReadHistoryRequest& request,
                           absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk,
                           GroupAccess may_read = AnyGroup) const;

  kv::Store& store() { return *options_.store; }
  core::Clock& clock() { return *options_.clock; }

 private:
  explicit FeatureStore(Options options) : options_(std::move(options)) {}

  // The remembered result of `batch_id`, marked duplicate, if any.
  std::optional<v1::IngestBatchResult> RememberedBatch(const std::string& batch_id) const;
  void RememberBatch(const v1::IngestBatchResult& result);

  Options options_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<LineageStore> lineage_;
  std::unique_ptr<AccessLog> access_log_;
  // Before the writers and the reader that use it, so it is destroyed after them.
  std::unique_ptr<RowCache> online_cache_;
  std::unique_ptr<FeatureWriter> writer_;
  std::unique_ptr<BulkLoader> bulk_;
  std::unique_ptr<OnlineReader> online_;
  std::unique_ptr<HistoryReader> history_;
  std::unique_ptr<AggregationGroups> aggregations_;

  mutable absl::Mutex batches_mu_;
  // Recent batch results by id, oldest first in `batch_order_` for eviction.
  absl::flat_hash_map<std::string, v1::IngestBatchResult> batches_ ABSL_GUARDED_BY(batches_mu_);
  std::list<std::string> batch_order_ ABSL_GUARDED_BY(batches_mu_);
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_FEATURE_STORE_H_
