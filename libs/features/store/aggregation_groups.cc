#include "libs/features/store/aggregation_groups.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/features/storage/tile_updates.h"
#include "libs/kv/iterator.h"

namespace fabrique::features {
namespace {

using google::protobuf::util::MessageDifferencer;

// What may not change once an aggregation group is applied: everything but its metadata
// (description, tags, owner, sensitivity) and the features the server fills in.
v1::FeatureGroupSpec FixedPart(const v1::FeatureGroupSpec& spec) {
  v1::FeatureGroupSpec fixed = spec;
  fixed.clear_description();
  fixed.clear_tags();
  fixed.clear_owner_squad();
  fixed.clear_sensitivity();
  fixed.clear_sensitivity_reason();
  fixed.clear_features();
  return fixed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AggregationGroups>> AggregationGroups::Create(Options options) {
  if (options.store == nullptr || options.catalog == nullptr || options.history == nullptr) {
    return absl::InvalidArgumentError(
        "AggregationGroupsOptions needs a store, a catalog and a history reader");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  if (options.backfill_batch_rows <= 0) options.backfill_batch_rows = 65536;
  ASSIGN_OR_RETURN(kv::ColumnFamily tiles, options.store->Family(options.tiles_family));
  TileCacheOptions cache_options;
  cache_options.capacity_bytes = options.tile_cache_bytes;
  ASSIGN_OR_RETURN(std::unique_ptr<TileCache> cache, TileCache::Create(cache_options));
  ASSIGN_OR_RETURN(std::unique_ptr<TileReader> reader,
                   TileReader::Create({options.store, options.tiles_family, cache.get()}));
  auto groups = std::unique_ptr<AggregationGroups>(
      new AggregationGroups(std::move(options), tiles, std::move(cache), std::move(reader)));
  const std::shared_ptr<const CatalogState> state = groups->options_.catalog->Snapshot();
  for (const auto& [name, entry] : state->groups) {
    const v1::FeatureGroup& group = entry->latest();
    if (!IsAggregation(group)) continue;
    auto source = state->groups.find(group.spec().aggregation().source_group());
    if (source == state->groups.end()) {
      return absl::InternalError(absl::StrCat("aggregation group '", name, "': source group '",
                                              group.spec().aggregation().source_group(),
                                              "' is not in the catalog"));
    }
    absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
        AggregationPlan::Create(group.spec().aggregation(), source->second->latest());
    if (!plan.ok()) {
      return absl::InternalError(absl::StrCat("aggregation group '", name,
                                              "' no longer plans: ", plan.status().message()));
    }
    groups->Register(name, *std::move(plan));
  }
  return groups;
}

std::optional<absl::StatusOr<v1::ApplyFeatureGroupResponse>> AggregationGroups::Apply(
    const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller,
    const BackfillProgress& progress) {
  const v1::FeatureGroupSpec& spec = request.spec();
  absl::MutexLock apply(&apply_mu_);
  const std::shared_ptr<const CatalogState> state = options_.catalog->Snapshot();
  auto it = state->groups.find(spec.name());
  const v1::FeatureGroup* existing = it == state->groups.end() ? nullptr : &it->second->latest();
  if (!spec.has_aggregation()) {
    if (existing == nullptr || !IsAggregation(*existing)) return std::nullopt;
    return absl::FailedPreconditionError(absl::StrCat(
        "feature group '", spec.name(),
        "' is an aggregation group: its aggregation cannot be removed; apply it with its "
        "aggregation (only description, tags and owner may change)"));
  }
  if (spec.features_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "aggregation group '", spec.name(),
        "' lists features: leave features empty, the server lists one per aggregation and "
        "window"));
  }
  const std::string& source_name = spec.aggregation().source_group();
  auto source = state->groups.find(source_name);
  if (source_name.empty() || source == state->groups.end()) {
    return absl::NotFoundError(absl::StrCat("source group '", source_name,
                                            "' of aggregation group '", spec.name(),
                                            "' does not exist"));
  }
  const v1::FeatureGroup& source_group = source->second->latest();
  if (IsAggregation(source_group)) {
    return absl::InvalidArgumentError(
        absl::StrCat("source group '", source_name,
                     "' is an aggregation group: aggregate a group that rows are ingested into"));
  }
  if (!spec.entity().empty() && spec.entity() != source_group.spec().entity()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "aggregation group '", spec.name(), "' is of entity '", spec.entity(), "' but its source '",
        source_name, "' is of entity '", source_group.spec().entity(),
        "': an aggregation group has its source's entity"));
  }
  absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
      AggregationPlan::Create(spec.aggregation(), source_group);
  if (!plan.ok()) return plan.status();
  v1::ApplyFeatureGroupRequest filled = request;
  filled.mutable_spec()->set_entity(source_group.spec().entity());
  for (v1::FeatureSpec& feature : (*plan)->OutputFeatures()) {
    *filled.mutable_spec()->add_features() = std::move(feature);
  }
  if (existing != nullptr) {
    if (!IsAggregation(*existing)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "feature group '", spec.name(),
          "' is a plain feature group: it cannot become an aggregation group; apply the "
          "aggregation under another name"));
    }
    if (!MessageDifferencer::Equals(FixedPart(existing->spec()), FixedPart(filled.spec()))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "aggregation group '", spec.name(),
          "' cannot change once applied, except its description, tags and owner: apply the "
          "new definition under another name"));
    }
    return options_.catalog->ApplyFeatureGroup(filled, caller);
  }
  if (request.validate_only()) return options_.catalog->ApplyFeatureGroup(filled, caller);
  // Ingest into the source waits from here until the group is published with its tiles.
  absl::WriterMutexLock feed(&feed_mu_);
  absl::Status backfilled = Backfill(spec.name(), **plan, source_group, progress);
  // Nothing looks a group up before it is registered below; whatever was cached under its name
  // is of tiles the backfill has just replaced.
  if (cache_ != nullptr) cache_->ErasePrefix(TileGroupBegin(spec.name()));
  if (!backfilled.ok()) return backfilled;
  absl::StatusOr<v1::ApplyFeatureGroupResponse> response =
      options_.catalog->ApplyFeatureGroup(filled, caller);
  if (response.ok()) Register(spec.name(), *std::move(plan));
  return response;
}

absl::Status AggregationGroups::Backfill(const std::string& name, const AggregationPlan& plan,
                                         const v1::FeatureGroup& source,
                                         const BackfillProgress& progress) {
  // Tiles of an earlier attempt that died before the catalog recorded the group. Cleared only
  // when there are some: a range tombstone costs every read of the family a check until
  // compaction drops it.
  kv::ReadOptions scan;
  scan.total_order_seek = true;  // Across entities: the family's prefix is the entity.
  ASSIGN_OR_RETURN(
      std::unique_ptr<kv::Iterator> earlier,
      options_.store->NewIterator(
          tiles_, kv::KeyRange::Between(TileGroupBegin(name), TileGroupEnd(name)), scan));
  earlier->SeekToFirst();
  RETURN_IF_ERROR(earlier->status());
  if (earlier->Valid()) {
    kv::WriteBatch clear;
    clear.DeleteRange(tiles_, TileGroupBegin(name), TileGroupEnd(name));
    RETURN_IF_ERROR(options_.store->Write(clear));
  }

  v1::AggregationBackfillProgress report;
  report.set_rows_estimate(source.history_rows_estimate());
  TileUpdates updates(name, plan);
  int64_t pending = 0;
  std::string last_entity;
  // History comes entity by entity, so the tiles of every entity before the one being read are
  // complete: they are written once, with a Put (the group's tiles were cleared above and
  // ingest into the source waits), leaving no merge operands for reads and compactions.
  auto flush = [&]() -> absl::Status {
    kv::WriteBatch batch;
    updates.AppendTo(tiles_, &batch, TileUpdates::Write::kPut);
    if (!batch.empty()) RETURN_IF_ERROR(options_.store->Write(batch));
    pending = 0;
    if (progress) progress(report);
    return absl::OkStatus();
  };
  std::vector<uint8_t> skip;
  HistoryQuery query;
  query.features = plan.input_features();
  RETURN_IF_ERROR(
      options_.history->Read(source, query, [&](v1::ReadHistoryResponse* chunk) -> absl::Status {
        const v1::RowBatch& rows = chunk->rows();
        const int n = rows.entity_keys_size();
        for (const std::string& entity : rows.entity_keys()) {
          if (entity != last_entity) {
            report.set_entities(report.entities() + 1);
            last_entity = entity;
          }
        }
        report.set_rows_scanned(report.rows_scanned() + n);
        if (report.rows_scanned() > report.rows_estimate()) {
          report.set_rows_estimate(report.rows_scanned());
        }
        pending += n;
        // The first row of the chunk's last entity, whose rows may go on in the next chunk.
        int open = n;
        while (open > 0 && rows.entity_keys(open - 1) == last_entity) --open;
        if (pending < options_.backfill_batch_rows || open == 0) return updates.Add(rows);
        skip.assign(n, 0);
        std::fill(skip.begin() + open, skip.end(), 1);
        RETURN_IF_ERROR(updates.Add(rows, skip));
        RETURN_IF_ERROR(flush());
        pending = n - open;
        for (uint8_t& s : skip) s = !s;
        return updates.Add(rows, skip);
      }));
  return flush();
}

void AggregationGroups::Register(const std::string& name,
                                 std::shared_ptr<const AggregationPlan> plan) {
  absl::MutexLock lock(&mu_);
  by_source_[plan->source_group()].push_back({name, plan});
  plans_[name] = std::move(plan);
}

std::vector<AggregationGroup> AggregationGroups::FedBy(const std::string& source) const {
  absl::MutexLock lock(&mu_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? std::vector<AggregationGroup>() : it->second;
}

std::shared_ptr<const AggregationPlan> AggregationGroups::PlanOf(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = plans_.find(name);
  return it == plans_.end() ? nullptr : it->second;
}

void AggregationGroups::RejectLate(const std::vector<AggregationGroup>& fed,
                                   const v1::RowBatch& rows, int64_t max_details,
                                   ValidationResult* validation) const {
  const int64_t now = absl::ToUnixMicros(options_.clock->Now());
  std::vector<v1::RowReject> late;
  for (const AggregationGroup& group : fed) {
    const int64_t lateness = group.plan->lateness_micros();
    if (lateness <= 0) continue;
    const int64_t bound = now - lateness;
    for (int r = 0; r < rows.event_time_unix_micros_size(); ++r) {
      const int64_t t = rows.event_time_unix_micros(r);
      if (!validation->good(r) || t >= bound) continue;
      validation->row_reasons[r] = v1::REJECT_REASON_TOO_LATE;
      ++validation->rejected_rows;
      ++validation->reject_counts[v1::REJECT_REASON_TOO_LATE];
      if (static_cast<int64_t>(late.size()) < max_details) {
        v1::RowReject& reject = late.emplace_back();
        reject.set_row_index(r);
        reject.set_reason(v1::REJECT_REASON_TOO_LATE);
        reject.set_message(
            absl::StrCat("event time is ", absl::FormatDuration(absl::Microseconds(now - t)),
                         " behind now, beyond the lateness bound ", WindowLabel(lateness),
                         " of aggregation group '", group.name, "'"));
      }
    }
  }
  if (late.empty()) return;
  std::vector<v1::RowReject>& rejects = validation->rejects;
  for (v1::RowReject& reject : late) rejects.push_back(std::move(reject));
  std::stable_sort(
      rejects.begin(), rejects.end(),
      [](const v1::RowReject& a, const v1::RowReject& b) { return a.row_index() < b.row_index(); });
  if (static_cast<int64_t>(rejects.size()) > max_details) rejects.resize(max_details);
}

absl::StatusOr<ExtraWrites> AggregationGroups::TileWrites(const std::vector<AggregationGroup>& fed,
                                                          const v1::RowBatch& rows,
                                                          RowMask skip) const {
  if (fed.empty()) return ExtraWrites();
  // Drops the written entities' cached tiles when the last copy of the function goes, after the
  // write (see TileCache).
  std::shared_ptr<TileCacheEraser> erase =
      cache_ != nullptr ? std::make_shared<TileCacheEraser>(cache_.get()) : nullptr;
  return ExtraWrites([this, &fed, &rows, skip, erase](kv::WriteBatch* batch) {
    for (const AggregationGroup& group : fed) {
      TileUpdates updates(group.name, *group.plan);
      RETURN_IF_ERROR(updates.Add(rows, skip));
      if (erase != nullptr) erase->Add(group.name, updates.entities());
      updates.AppendTo(tiles_, batch);
    }
    return absl::OkStatus();
  });
}

}  // namespace fabrique::features
