#include "libs/monitoring/intake/intake_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "libs/core/status_macros.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/intake/intake_families.h"
#include "libs/monitoring/intake/intake_family_tuning.h"
#include "libs/monitoring/intake/intake_retention.h"
#include "libs/monitoring/intake/prepared_batch.h"

namespace fabrique::monitoring {

absl::StatusOr<std::unique_ptr<IntakeStore>> IntakeStore::Open(IntakeOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("the intake needs a directory");
  if (options.retention < absl::ZeroDuration() || options.max_label_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retention and max_label_delay may not be negative");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  kv::StoreOptions store_options;
  store_options.path = options.dir;
  store_options.column_families.assign(std::begin(kIntakeFamilies), std::end(kIntakeFamilies));
  // Every append is fsynced: the product promises durability when the call answers.
  store_options.sync_writes = true;
  // Streams append concurrently: one group of writes inserts into the memtables while the next
  // writes the log. The group's inserts are made by one thread, not side by side: a batch's keys
  // are in order, and a sequential insert starts where the one before ended, while a concurrent
  // one searches the memtable from the top for every key (most of the monitor's CPU went there).
  store_options.pipelined_writes = true;
  store_options.concurrent_memtable_writes = false;
  store_options.env = options.env;
  // Seven families of 64 MiB memtables would let the monitor's memory climb by up to 448 MiB
  // under a steady trickle of predictions before the first flush: a soak saw it grow by 8 MiB a
  // minute. One cap over all of them bounds it; the block cache is what the window scans reuse.
  store_options.total_write_buffer_bytes = options.memtable_bytes;
  store_options.block_cache_bytes = options.block_cache_bytes;
  store_options.after_flush = options.after_flush;
  InstallIntakeRetention(&store_options, {options.retention, options.max_label_delay},
                         options.clock);
  InstallIntakeFamilyTuning(&store_options);
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Store> store, kv::Store::Open(std::move(store_options)));
  std::unique_ptr<IntakeStore> intake(new IntakeStore(std::move(options), std::move(store)));
  RETURN_IF_ERROR(intake->ResolveFamilies());
  return intake;
}

IntakeStore::IntakeStore(IntakeOptions options, std::unique_ptr<kv::Store> store)
    : options_(std::move(options)), clock_(options_.clock), store_(std::move(store)) {}

IntakeStore::~IntakeStore() = default;

absl::Status IntakeStore::ResolveFamilies() {
  ASSIGN_OR_RETURN(predictions_, store_->Family(kPredictionsFamily));
  ASSIGN_OR_RETURN(prediction_ids_, store_->Family(kPredictionIdsFamily));
  ASSIGN_OR_RETURN(entity_index_, store_->Family(kEntityIndexFamily));
  ASSIGN_OR_RETURN(joined_, store_->Family(kJoinedFamily));
  ASSIGN_OR_RETURN(pending_, store_->Family(kPendingFamily));
  ASSIGN_OR_RETURN(batches_, store_->Family(kBatchesFamily));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> IntakeStore::StoredBatch(
    BatchKind kind, absl::string_view batch_id) const {
  absl::StatusOr<std::string> value = store_->Get(batches_, BatchKey(kind, batch_id));
  if (absl::IsNotFound(value.status())) return std::nullopt;
  if (!value.ok()) return value.status();
  ASSIGN_OR_RETURN(TimedValue timed, SplitTime(*value));
  return std::string(timed.body);
}

absl::StatusOr<std::optional<std::string>> IntakeStore::FindById(
    absl::string_view prediction_id) const {
  absl::StatusOr<std::string> value = store_->Get(prediction_ids_, PredictionIdKey(prediction_id));
  if (absl::IsNotFound(value.status())) return std::nullopt;
  if (!value.ok()) return value.status();
  return DecodePredictionIdValue(prediction_id, *value);
}

absl::StatusOr<std::optional<std::string>> IntakeStore::ModelOfPrediction(
    absl::string_view prediction_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> key, FindById(prediction_id));
  if (!key) return std::nullopt;
  ASSIGN_OR_RETURN(PredictionKeyParts parts, DecodePredictionKey(*key));
  return std::move(parts.model);
}

absl::StatusOr<std::optional<IntakeStore::LatestPrediction>> IntakeStore::LatestUnder(
    absl::string_view model, absl::string_view entity, absl::string_view entity_key,
    int64_t time_micros, bool sole_only, kv::Iterator& entities) const {
  const std::string prefix = EntityIndexPrefix(model, entity, entity_key);
  // Newest first: the first entry found is the latest, unless only sole ones count (a key whose
  // predictions named several entities is read back through its history under each).
  for (entities.Seek(EntityIndexSeekKey(model, entity, entity_key, time_micros));
       entities.Valid() && absl::StartsWith(entities.key(), prefix); entities.Next()) {
    ASSIGN_OR_RETURN(EntityIndexValue value,
                     DecodeEntityIndexValue(entities.key(), entities.value()));
    if (sole_only && !value.sole_entity) continue;
    ASSIGN_OR_RETURN(PredictionKeyParts parts, DecodePredictionKey(value.prediction_key));
    return LatestPrediction{value.time_micros, std::move(parts.prediction_id),
                            std::move(value.prediction_key)};
  }
  RETURN_IF_ERROR(entities.status());
  return std::nullopt;
}

absl::StatusOr<std::optional<std::string>> IntakeStore::FindLatestForEntity(
    const v1::EntityEventKey& key, kv::Iterator& entities) const {
  const int64_t time_micros = TimestampMicros(key.event_time());
  if (!key.entity().empty()) {
    ASSIGN_OR_RETURN(std::optional<LatestPrediction> latest,
                     LatestUnder(key.model(), key.entity(), key.entity_key(), time_micros,
                                 /*sole_only=*/false, entities));
    if (!latest) return std::nullopt;
    return std::move(latest->prediction_key);
  }
  // No entity named: the latest prediction that named this key alone, under whichever entity,
  // or under "" itself (entries written before the sole-entity mark). A model's entities are
  // few, and each is found by one Seek past the one before.
  std::optional<LatestPrediction> best;
  const std::string model_prefix = EntityIndexModelPrefix(key.model());
  std::string next = model_prefix;
  while (true) {
    entities.Seek(next);
    if (!entities.Valid()) {
      RETURN_IF_ERROR(entities.status());
      break;
    }
    if (!absl::StartsWith(entities.key(), model_prefix)) break;
    ASSIGN_OR_RETURN(std::string entity, EntityOfIndexKey(entities.key()));
    ASSIGN_OR_RETURN(std::optional<LatestPrediction> latest,
                     LatestUnder(key.model(), entity, key.entity_key(), time_micros,
                                 /*sole_only=*/!entity.empty(), entities));
    // As one list under "" ordered them: the latest time, then the smallest prediction id.
    if (latest && (!best || latest->time_micros > best->time_micros ||
                   (latest->time_micros == best->time_micros &&
                    latest->prediction_id < best->prediction_id))) {
      best = std::move(latest);
    }
    next = kv::PrefixSuccessor(EntityIndexEntityPrefix(key.model(), entity));
  }
  if (!best) return std::nullopt;
  return std::move(best->prediction_key);
}

absl::StatusOr<bool> IntakeStore::HasOutcome(const std::string& prediction_key) const {
  absl::StatusOr<std::string> value = store_->Get(joined_, prediction_key);
  if (absl::IsNotFound(value.status())) return false;
  if (!value.ok()) return value.status();
  return true;
}

bool IntakeStore::StillPending(int64_t time_micros, absl::Time now) const {
  if (options_.max_label_delay == absl::ZeroDuration() ||
      options_.max_label_delay == absl::InfiniteDuration()) {
    return true;
  }
  return time_micros >= TimeMicros(now - options_.max_label_delay);
}

void IntakeStore::SetObserver(PredictionObserver* observer) {
  absl::MutexLock lock(&append_mutex_);
  observer_ = observer;
}

absl::Status IntakeStore::Compact() {
  for (const char* name : kIntakeFamilies) {
    ASSIGN_OR_RETURN(kv::ColumnFamily family, store_->Family(name));
    RETURN_IF_ERROR(store_->Compact(family));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::monitoring
