#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RETENTION_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RETENTION_H_

// Retention of the intake by RocksDB compaction, never by a scan or a delete: a compaction
// filter on every intake family reads the time header of each value (intake_values.h) and drops
// the entry when
//
//   time < now - retention                              every family
//   time < now - min(retention, max_label_delay)        pending outcomes
//
// `now` is read once per compaction from the injected clock, so tests drive expiry with a
// FakeClock and a forced compaction. A zero or infinite period keeps entries forever. Readers
// still check the pending deadline themselves, since compaction comes late.

#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/kv/options.h"

namespace fabrique::monitoring {

struct IntakeRetention {
  absl::Duration retention = absl::InfiniteDuration();
  absl::Duration max_label_delay = absl::InfiniteDuration();
};

// Installs the filter on the intake families through options->configure_family, keeping any
// configure_family already set. `clock` is not owned and must outlive the Store.
void InstallIntakeRetention(kv::StoreOptions* options, IntakeRetention retention,
                            const core::Clock* clock);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_RETENTION_H_
