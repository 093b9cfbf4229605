#include "libs/monitoring/intake/intake_retention.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "libs/monitoring/intake/intake_families.h"
#include "libs/monitoring/intake/intake_keys.h"
#include "libs/monitoring/intake/intake_values.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/options.h"

namespace fabrique::monitoring {
namespace {

bool KeepsForever(absl::Duration period) {
  return period <= absl::ZeroDuration() || period == absl::InfiniteDuration();
}

// One filter per compaction, its cut-off fixed when the compaction starts.
class TimeHeaderFilter : public rocksdb::CompactionFilter {
 public:
  explicit TimeHeaderFilter(int64_t cutoff_micros) : cutoff_micros_(cutoff_micros) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    absl::StatusOr<TimedValue> timed = SplitTime(absl::string_view(value.data(), value.size()));
    // A value without a header is not ours to judge: keep it.
    return timed.ok() && timed->time_micros < cutoff_micros_;
  }

  const char* Name() const override { return "fabrique.monitoring.IntakeRetentionFilter"; }

 private:
  const int64_t cutoff_micros_;
};

class TimeHeaderFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  TimeHeaderFilterFactory(absl::Duration period, const core::Clock* clock)
      : period_(period), clock_(clock) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<TimeHeaderFilter>(TimeMicros(clock_->Now() - period_));
  }

  const char* Name() const override { return "fabrique.monitoring.IntakeRetentionFilterFactory"; }

 private:
  const absl::Duration period_;
  const core::Clock* const clock_;
};

}  // namespace

void InstallIntakeRetention(kv::StoreOptions* options, IntakeRetention retention,
                            const core::Clock* clock) {
  std::shared_ptr<rocksdb::CompactionFilterFactory> general;
  if (!KeepsForever(retention.retention)) {
    general = std::make_shared<TimeHeaderFilterFactory>(retention.retention, clock);
  }
  absl::Duration pending_period = retention.retention;
  if (KeepsForever(pending_period) ||
      (!KeepsForever(retention.max_label_delay) && retention.max_label_delay < pending_period)) {
    pending_period = retention.max_label_delay;
  }
  std::shared_ptr<rocksdb::CompactionFilterFactory> pending;
  if (!KeepsForever(pending_period)) {
    pending = std::make_shared<TimeHeaderFilterFactory>(pending_period, clock);
  }
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, general, pending](const std::string& family,
                                                           rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(family, cf);
    if (family == kPendingFamily) {
      if (pending) cf->compaction_filter_factory = pending;
      return;
    }
    for (const char* name : kIntakeFamilies) {
      if (family == name && general) cf->compaction_filter_factory = general;
    }
  };
}

}  // namespace fabrique::monitoring
