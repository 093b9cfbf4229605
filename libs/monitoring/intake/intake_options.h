#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_OPTIONS_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_OPTIONS_H_

// Options of the monitor's intake store (intake_store.h).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace fabrique::monitoring {

struct IntakeOptions {
  // Directory of the intake database, e.g. <data_dir>/intake; created when missing.
  // Required: there is no default.
  std::string dir;

  // How long predictions, outcomes and remembered batch ids are kept, counted from the
  // prediction's time (a batch id: from its arrival). Older entries are dropped by compaction.
  // Zero or infinite keeps everything. Default: 90 days.
  absl::Duration retention = absl::Hours(24 * 90);

  // How long an outcome waits for its prediction, counted from its event time (joined by entity)
  // or its observe time (joined by id). Past it the outcome is dropped, and one that arrives
  // already past it with no prediction to join is refused. Zero or infinite: outcomes wait as
  // long as the retention keeps them. Default: 30 days.
  absl::Duration max_label_delay = absl::Hours(24 * 30);

  // Clock for batch arrival, pending deadlines and retention. Not owned; must outlive the store.
  // Default: nullptr = core::Clock::Real().
  const core::Clock* clock = nullptr;

  // Whether the registry knows `model` `version`. Records of unknown versions are still stored,
  // flagged, and counted as unknown_version. Called as each batch is prepared, from the
  // appending threads at once, so it must be thread-safe and quick (a cached view of the
  // registry), and must not call the store. Default: every version is known.
  std::function<bool(absl::string_view model, int64_t version)> known;

  // Cap on the memtables of all the intake's column families together, in bytes (kv's
  // total_write_buffer_bytes): the bound on what unflushed writes cost in memory. Default: 32 MiB.
  size_t memtable_bytes = size_t{32} << 20;

  // The intake database's block cache, in bytes, shared by its families. It holds the files'
  // indexes and filters (intake_family_tuning.h), whose level-0 partitions appends probe to ask
  // whether an id is stored, and the data blocks that appends and outcome joins read. Evaluations
  // scan their windows without filling it: in the soak (tools/bench/soak) the first one had
  // filled a 32 MiB cache in one go (the monitor's memory up 40 MiB at minute 5), and a window
  // read every 5 minutes gains little from a cache smaller than it. Default: 8 MiB.
  size_t block_cache_bytes = size_t{8} << 20;

  // Called after each flush of the intake's memtables (kv's after_flush): the monitor hands the
  // flushed memtable's memory back to the system then (server::MemoryReturn::Soon). Default: none.
  std::function<void()> after_flush;

  // The rocksdb::Env the database is read and written through (kv's seam for in-memory and
  // fault-injecting tests). Not owned. Default: nullptr = the real disk.
  rocksdb::Env* env = nullptr;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_OPTIONS_H_
