#ifndef FABRIQUE_TOOLS_BENCH_SOAK_FACTORY_H_
#define FABRIQUE_TOOLS_BENCH_SOAK_FACTORY_H_

// The factory the soak runs, as a deployment runs the services its calls go through:
// fabrique-registry and fabrique-features (InferenceStack's), fabrique-monitor (asking the
// registry about models) and fabrique-inference (following the registry, reading features, logging
// every prediction to the monitor), on loopback, each with its own data dir, over TLS with tokens
// from one local authority (or all --insecure). And what each process uses, read from its own
// /metrics as an SRE's dashboard reads it.

#include <memory>
#include <string>
#include <vector>

#include "tools/bench/bench_support.h"
#include "tools/bench/inference_bench_stack.h"

namespace fabrique::bench {

class SoakFactory {
 public:
  // Starts the registry and the feature store under `dir` (created fresh).
  static std::unique_ptr<SoakFactory> StartStores(const std::string& dir, bool insecure);
  // Starts the monitor, then the inference server serving `model` (whose production alias must
  // be set) with `inference_flags`, logging to the monitor.
  void StartServing(const std::string& model, const std::vector<std::string>& inference_flags);

  InferenceStack& stack() { return *stack_; }
  const Security& security() const { return stack_->security(); }
  SpawnedService& monitor() const { return *monitor_; }
  SpawnedService& inference() const { return *inference_; }

  // The running services by name, in the order they started.
  std::vector<std::pair<std::string, SpawnedService*>> Services() const;

 private:
  explicit SoakFactory(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::unique_ptr<InferenceStack> stack_;
  std::unique_ptr<SpawnedService> monitor_;
  std::unique_ptr<SpawnedService> inference_;
};

// One process's figures from its /metrics: process_resident_memory_bytes and process_open_fds.
struct ProcessFigures {
  double rss_mib = -1;  // -1 when unreadable.
  // The highest rss_mib of the samples taken over the minute (every 5 s), -1 when none was
  // read. Memory that cycles within a budget (memtables filled and flushed, about once a minute
  // here) puts a sample taken at one instant anywhere in the cycle: ±10% in the feature store.
  // The peak is the figure a memory limit must hold, and it compares like with like.
  double peak_rss_mib = -1;
  double open_fds = -1;
  // Of rss_mib, what the service's own metrics count in memory it holds under a cap: RocksDB's
  // memtables (fabrique_*_memtable_bytes) and its caches (fabrique_*_cache_bytes: the block
  // cache, the feature store's row and tile caches). Caches fill up to their caps over a run by
  // design, and memtables fill and flush: a leak is what grows outside them. 0 for a service with
  // neither.
  double capped_mib = 0;
  // The least rss_mib - capped_mib of the samples taken over the minute, each from one scrape;
  // -1 when none was read. Transients (a flushed memtable's memory until it is returned, an
  // evaluation's scratch) leave this floor where it was; a leak raises it.
  double floor_uncapped_mib = -1;
  // False when /metrics does not carry them and /proc/PID was read instead.
  bool from_metrics = true;
};
ProcessFigures ReadProcessFigures(const SpawnedService& service);
// Folds one sample into the minute's peak_rss_mib and floor_uncapped_mib.
void FoldSample(const ProcessFigures& sample, ProcessFigures* minute);

// The sum, in bytes, of every series of `metrics` (Prometheus text) that ProcessFigures::capped_mib
// counts.
double CappedBytes(const std::string& metrics);

// The value of the unlabelled series `name` in `metrics` (Prometheus text); -1 when absent.
double SeriesValue(const std::string& metrics, const std::string& name);

// The service's /metrics now, as text ("" when it cannot be read).
std::string ScrapeMetrics(const SpawnedService& service);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SOAK_FACTORY_H_
