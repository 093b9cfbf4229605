#include "libs/features/storage/retention_filter.h"

#include <limits>
#include <utility>

#include "libs/features/storage/storage_keys.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/options.h"

namespace fabrique::features {
namespace {

// One filter per compaction: the policies and the cut-off instant are fixed when it starts.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  // Turns each retention period into the event time before which rows are dropped.
  RetentionFilter(RetentionPolicies::Snapshot policies, int64_t now_micros)
      : cutoffs_(std::move(policies)) {
    for (auto& [prefix, value] : cutoffs_) {
      int64_t cutoff = 0;
      // A retention reaching before the epoch's range keeps everything.
      value = __builtin_sub_overflow(now_micros, value, &cutoff)
                  ? std::numeric_limits<int64_t>::min()
                  : cutoff;
    }
  }

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& /*value*/,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    if (cutoffs_.empty() || key.size() < kHistoryTimeBytes) return false;
    const absl::string_view view(key.data(), key.size());
    const size_t group_length = EncodedStringLength(view);
    if (group_length == 0 || view.size() < group_length + kHistoryTimeBytes) {
      return false;  // Not a history key of ours: keep it.
    }
    auto it = cutoffs_.find(view.substr(0, group_length));
    return it != cutoffs_.end() && HistoryKeyEventTime(view) < it->second;
  }

  const char* Name() const override { return "fabrique.features.RetentionFilter"; }

 private:
  // Group key prefix -> oldest event time kept.
  RetentionPolicies::Snapshot cutoffs_;
};

class RetentionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(std::shared_ptr<const RetentionPolicies> policies,
                         const core::Clock* clock)
      : policies_(std::move(policies)), clock_(clock) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<RetentionFilter>(policies_->Copy(), absl::ToUnixMicros(clock_->Now()));
  }

  const char* Name() const override { return "fabrique.features.RetentionFilterFactory"; }

 private:
  const std::shared_ptr<const RetentionPolicies> policies_;
  const core::Clock* const clock_;
};

}  // namespace

void RetentionPolicies::Set(absl::string_view group, absl::Duration retention) {
  if (retention <= absl::ZeroDuration()) {
    Remove(group);
    return;
  }
  const int64_t micros = absl::ToInt64Microseconds(retention);
  absl::MutexLock lock(&mu_);
  by_prefix_[GroupKeyPrefix(group)] = micros;
}

void RetentionPolicies::Remove(absl::string_view group) {
  absl::MutexLock lock(&mu_);
  by_prefix_.erase(GroupKeyPrefix(group));
}

RetentionPolicies::Snapshot RetentionPolicies::Copy() const {
  absl::MutexLock lock(&mu_);
  return by_prefix_;
}

void InstallRetentionFilter(kv::StoreOptions* options, const std::string& history_family,
                            std::shared_ptr<const RetentionPolicies> policies,
                            const core::Clock* clock) {
  auto factory = std::make_shared<RetentionFilterFactory>(std::move(policies), clock);
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, factory, history_family](
                                  const std::string& family, rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(family, cf);
    if (family == history_family) cf->compaction_filter_factory = factory;
  };
}

}  // namespace fabrique::features
