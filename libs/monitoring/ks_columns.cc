// KS tests of many columns at once: each column is sorted and merged on its own, so columns
// are shared among threads, each taking the next column not yet taken.

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "libs/monitoring/drift_statistics.h"

namespace fabrique::monitoring {

std::vector<absl::StatusOr<KsResult>> Ks2SampColumns(absl::Span<const ColumnPair> columns,
                                                     int threads) {
  std::vector<absl::StatusOr<KsResult>> results(columns.size(), KsResult{});
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min<int>(threads, static_cast<int>(columns.size()));
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < columns.size(); i = next++) {
      results[i] = Ks2Samp(columns[i].reference, columns[i].current);
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  return results;
}

}  // namespace fabrique::monitoring
