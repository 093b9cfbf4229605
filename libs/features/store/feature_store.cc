#include "libs/features/store/feature_store.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/classification.h"
#include "libs/features/catalog/row_validator.h"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/online_merge.h"
#include "libs/features/storage/tile_family.h"
#include "libs/features/store/aggregation_lookup.h"
#include "libs/features/store/derived_columns.h"

namespace fabrique::features {
namespace {

using google::protobuf::util::TimeUtil;

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

// The reject counts of `validation`, as the response lists them: one entry per reason seen.
void AddRejectCounts(const ValidationResult& validation, v1::IngestBatchResult* result) {
  for (size_t reason = 0; reason < validation.reject_counts.size(); ++reason) {
    if (validation.reject_counts[reason] == 0) continue;
    v1::RejectCount* count = result->add_reject_counts();
    count->set_reason(static_cast<v1::RejectReason>(reason));
    count->set_count(validation.reject_counts[reason]);
  }
}

}  // namespace

const std::vector<std::string>& FeatureStore::ColumnFamilies() {
  static const auto* const families = new std::vector<std::string>{
      "catalog", "history", "online", "lineage", "access_log", "tiles"};
  return *families;
}

void FeatureStore::ConfigureStore(kv::StoreOptions* options, const core::Clock* clock,
                                  std::shared_ptr<const RetentionPolicies> retention) {
  for (const std::string& family : ColumnFamilies()) {
    if (std::find(options->column_families.begin(), options->column_families.end(), family) ==
        options->column_families.end()) {
      options->column_families.push_back(family);
    }
  }
  // Tuned first: the retention filter chains onto whatever configure_family is set.
  TuneFeatureFamilies(options);
  InstallOnlineMerge(options);
  InstallTileFamily(options);
  InstallRetentionFilter(options, "history", std::move(retention),
                         clock != nullptr ? clock : core::Clock::Real());
}

absl::StatusOr<std::unique_ptr<FeatureStore>> FeatureStore::Create(Options options) {
  if (options.store == nullptr || options.retention == nullptr) {
    return absl::InvalidArgumentError("FeatureStore::Options needs a store and retention policies");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  auto store = std::unique_ptr<FeatureStore>(new FeatureStore(std::move(options)));
  const FeatureStoreOptions& o = store->options_;
  ASSIGN_OR_RETURN(store->catalog_, Catalog::Create({o.store, o.clock, "catalog"}));
  ASSIGN_OR_RETURN(store->lineage_, LineageStore::Create({o.store, o.clock, nullptr, "lineage"}));
  AccessLogOptions access;
  access.store = o.store;
  access.clock = o.clock;
  access.max_queued = o.max_queued_access_entries;
  ASSIGN_OR_RETURN(store->access_log_, AccessLog::Create(access));
  RowCacheOptions cache;
  cache.capacity_bytes = o.online_cache_bytes;
  ASSIGN_OR_RETURN(store->online_cache_, RowCache::Create(cache));
  FeatureWriterOptions writer;
  writer.store = o.store;
  writer.durability = o.durability;
  writer.online_cache = store->online_cache_.get();
  ASSIGN_OR_RETURN(store->writer_, FeatureWriter::Create(writer));
  BulkLoaderOptions bulk;
  bulk.store = o.store;
  bulk.writer = store->writer_.get();
  bulk.online_cache = store->online_cache_.get();
  ASSIGN_OR_RETURN(store->bulk_, BulkLoader::Create(bulk));
  OnlineReaderOptions online;
  online.store = o.store;
  online.clock = o.clock;
  online.cache = store->online_cache_.get();
  ASSIGN_OR_RETURN(store->online_, OnlineReader::Create(online));
  HistoryReaderOptions history;
  history.store = o.store;
  ASSIGN_OR_RETURN(store->history_, HistoryReader::Create(history));
  AggregationGroupsOptions aggregations;
  aggregations.store = o.store;
  aggregations.catalog = store->catalog_.get();
  aggregations.history = store->history_.get();
  aggregations.clock = o.clock;
  aggregations.tile_cache_bytes = o.tile_cache_bytes;
  ASSIGN_OR_RETURN(store->aggregations_, AggregationGroups::Create(aggregations));
  // The compaction filter drops history by the catalog's retention periods from now on.
  for (const auto& [name, entry] : store->catalog_->Snapshot()->groups) {
    o.retention->Set(name, ToDuration(entry->latest().spec().retention()));
  }
  return store;
}

absl::StatusOr<v1::ApplyFeatureGroupResponse> FeatureStore::ApplyFeatureGroup(
    const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller,
    const BackfillProgress& progress) {
  std::optional<absl::StatusOr<v1::ApplyFeatureGroupResponse>> aggregation =
      aggregations_->Apply(request, caller, progress);
  ASSIGN_OR_RETURN(v1::ApplyFeatureGroupResponse response,
                   aggregation.has_value() ? *std::move(aggregation)
                                           : catalog_->ApplyFeatureGroup(request, caller));
  if (!request.validate_only()) {
    options_.retention->Set(response.group().spec().name(),
                            ToDuration(response.group().spec().retention()));
  }
  return response;
}

absl::StatusOr<v1::IngestBatchResult> FeatureStore::Ingest(const v1::IngestRequest& request,
                                                           IngestSync sync) {
  if (!request.batch_id().empty()) {
    if (std::optional<v1::IngestBatchResult> seen = RememberedBatch(request.batch_id())) {
      return *std::move(seen);
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const ValidationPlan> plan, catalog_->PlanFor(request.group()));
  if (AggregationGroups::IsAggregation(plan->group())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature group '", request.group(), "' is an aggregation group: ingest into its source '",
        plan->group().spec().aggregation().source_group(), "' instead"));
  }
  ValidateOptions validate;
  validate.max_reject_details = options_.max_reject_details;
  // The client's rows, plus the group's derived features computed from them.
  ASSIGN_OR_RETURN(DerivedColumns derived, DerivedColumns::Compute(*plan, request.rows()));
  const v1::RowBatch& rows = derived.rows();
  ASSIGN_OR_RETURN(ValidationResult validation, plan->Validate(rows, validate));
  // Held until the batch is committed: a backfill never misses it nor counts it twice.
  absl::ReaderMutexLock feed(&aggregations_->feed_mu());
  const std::vector<AggregationGroup> fed = aggregations_->FedBy(request.group());
  if (!fed.empty()) {
    aggregations_->RejectLate(fed, rows, options_.max_reject_details, &validation);
  }

  v1::IngestBatchResult result;
  result.set_batch_id(request.batch_id());
  result.set_rows_rejected(validation.rejected_rows);
  for (v1::RowReject& reject : validation.rejects) *result.add_rejects() = std::move(reject);
  AddRejectCounts(validation, &result);
  for (v1::IngestWarning& warning : derived.warnings()) *result.add_warnings() = std::move(warning);
  if (request.all_or_nothing() && validation.rejected_rows > 0) {
    // The good rows are refused with the bad ones; say so for each of them.
    const int64_t refused = validation.good_rows();
    result.set_rows_rejected(validation.row_count);
    if (refused > 0) {
      v1::RejectCount* count = result.add_reject_counts();
      count->set_reason(v1::REJECT_REASON_BATCH_REFUSED);
      count->set_count(refused);
    }
    return result;
  }
  if (validation.good_rows() > 0 && request.bulk()) {
    ASSIGN_OR_RETURN(const ExtraWrites tiles,
                     aggregations_->TileWrites(fed, rows, validation.row_reasons));
    ASSIGN_OR_RETURN(BulkLoadResult loaded,
                     bulk_->Load(plan->group(), rows, validation.row_reasons, tiles));
    result.set_rows_written(loaded.rows_written);
  } else if (validation.good_rows() > 0) {
    ASSIGN_OR_RETURN(const ExtraWrites tiles,
                     aggregations_->TileWrites(fed, rows, validation.row_reasons));
    ASSIGN_OR_RETURN(
        WriteResult written,
        sync == IngestSync::kDeferred
            ? writer_->WriteDeferred(plan->group(), rows, validation.row_reasons, tiles)
            : writer_->Write(plan->group(), rows, validation.row_reasons, tiles));
    result.set_rows_written(written.rows_written);
  }
  if (!request.batch_id().empty()) RememberBatch(result);
  return result;
}

absl::Status FeatureStore::LookupOnline(const v1::LookupOnlineRequest& request,
                                        v1::LookupOnlineResponse* response, bool memory_only,
                                        GroupAccess may_read) const {
  // One catalog snapshot for the whole call: every group read under one consistent definition.
  const std::shared_ptr<const CatalogState> state = catalog_->Snapshot();
  std::vector<const v1::FeatureGroup*> groups;
  std::set<std::string> seen;
  bool names_aggregation = false;
  for (const v1::FeatureRef& ref : request.features()) {
    if (!seen.insert(ref.group()).second) continue;
    auto it = state->groups.find(ref.group());
    if (it == state->groups.end()) {
      return absl::NotFoundError(absl::StrCat("feature group '", ref.group(),
                                              "' does not exist (feature '", ref.group(), ":",
                                              ref.feature(), "')"));
    }
    const GroupEntry& entry = *it->second;
    if (entry.personal.empty()) {
      RETURN_IF_ERROR(may_read(entry.latest(), {}));
    } else {
      std::vector<std::string> personal;
      for (const v1::FeatureRef& asked : request.features()) {
        if (asked.group() == ref.group()) AddIfPersonal(entry.personal, asked.feature(), &personal);
      }
      RETURN_IF_ERROR(may_read(entry.latest(), personal));
    }
    groups.push_back(&entry.latest());
    names_aggregation = names_aggregation || AggregationGroups::IsAggregation(entry.latest());
  }
  if (names_aggregation) {
    return LookupWithAggregations(
        request, *state, *aggregations_,
        [&](const v1::LookupOnlineRequest& plain, v1::LookupOnlineResponse* out) {
          std::vector<const v1::FeatureGroup*> plain_groups;
          for (const v1::FeatureGroup* group : groups) {
            if (!AggregationGroups::IsAggregation(*group)) plain_groups.push_back(group);
          }
          return online_->Lookup(plain, plain_groups, out, memory_only);
        },
        response, memory_only);
  }
  return online_->Lookup(request, groups, response, memory_only);
}

absl::Status FeatureStore::ReadHistory(
    const v1::ReadHistoryRequest& request,
    absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk,
    GroupAccess may_read) const {
  const std::shared_ptr<const CatalogState> state = catalog_->Snapshot();
  auto it = state->groups.find(request.group());
  if (it == state->groups.end()) {
    return absl::NotFoundError(absl::StrCat("feature group \"", request.group(), "\" not found"));
  }
  const GroupEntry& entry = *it->second;
  const v1::FeatureGroup& group = entry.latest();
  if (AggregationGroups::IsAggregation(group)) {
    return absl::FailedPreconditionError(
        absl::StrCat("feature group '", request.group(),
                     "' is an aggregation group: it has no history; read its source '",
                     group.spec().aggregation().source_group(), "', or build a training set"));
  }
  if (request.features().empty()) {
    RETURN_IF_ERROR(may_read(group, entry.personal));
  } else {
    std::vector<std::string> personal;
    for (const std::string& feature : request.features()) {
      AddIfPersonal(entry.personal, feature, &personal);
    }
    RETURN_IF_ERROR(may_read(group, personal));
  }
  HistoryQuery query;
  query.features.assign(request.features().begin(), request.features().end());
  query.entity_keys.assign(request.entity_keys().begin(), request.entity_keys().end());
  if (request.time_range().has_start_time()) {
    query.start_micros = ToMicros(request.time_range().start_time());
  }
  if (request.time_range().has_end_time()) {
    query.end_micros = ToMicros(request.time_range().end_time());
  }
  query.chunk_rows = request.chunk_rows();
  query.limit = request.limit();
  return history_->Read(group, query, on_chunk);
}

std::optional<v1::IngestBatchResult> FeatureStore::RememberedBatch(
    const std::string& batch_id) const {
  absl::MutexLock lock(&batches_mu_);
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return std::nullopt;
  v1::IngestBatchResult result = it->second;
  result.set_duplicate(true);
  return result;
}

void FeatureStore::RememberBatch(const v1::IngestBatchResult& result) {
  absl::MutexLock lock(&batches_mu_);
  if (!batches_.emplace(result.batch_id(), result).second) return;
  batch_order_.push_back(result.batch_id());
  while (static_cast<int>(batch_order_.size()) > options_.remembered_batches) {
    batches_.erase(batch_order_.front());
    batch_order_.pop_front();
  }
}

}  // namespace fabrique::features
