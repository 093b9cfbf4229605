#ifndef FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_DATA_H_
#define FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_DATA_H_

// The payments and labels of features_aggregate_bench, generated from a seed so that the feature
// store and its baselines (pandas, DuckDB) see the same rows: per customer, payments spaced by
// random gaps of up to two hours (so a 1 h window holds about one, a day about 24), integer
// amounts (every sum is exact in any order, so results can be compared bit for bit), 1% null.
// Labels: 1% for customers without payments, 10% on an exact payment time, 5% on a tile
// boundary, the rest anywhere from a day before a customer's first payment to a day after its
// last.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fabrique/v1/features.pb.h"

namespace fabrique::bench {

struct AggregateSizes {
  int64_t entities = 100'000;
  int64_t events = 100;  // Per entity.
  int64_t labels = 1'000'000;
  int64_t tile_micros = int64_t{60} * 1'000'000;
  std::vector<int64_t> window_micros = {int64_t{3600} * 1'000'000, int64_t{86400} * 1'000'000};
  uint64_t seed = 1;
  std::string Describe() const;
};

// One payment; `null` = the amount is null.
struct Payment {
  int64_t time;
  double amount;
  bool null;
};

// Entity `entity`'s payments, oldest first, times unique. `base` is the earliest possible time.
std::vector<Payment> Payments(const AggregateSizes& sizes, int64_t entity, int64_t base);

// The key of entity `entity` ("cust%08d", as the pandas and DuckDB checksums write it).
std::string CustomerKey(int64_t entity);

// A feature's window suffix: the largest unit that divides the window exactly ("90s", "10m",
// "1h", "36h", "1d", "7d").
std::string WindowName(int64_t micros);

// The labels, written to `file` (int64 entity, int64 time, int64 label, a row each) and returned
// in batches for a training set.
std::vector<v1::LabelEventBatch> MakeAggregateLabels(const AggregateSizes& sizes, int64_t base,
                                                     const std::string& file);

// Writes the payments to `file` (int64 entity, int64 time, float64 amount with NaN = null, a row
// each) and hands them to `on_batch` as bulk ingest batches of about `batch_rows` rows of
// group `group` (feature "amount", DOUBLE), entity by entity. With an empty `file` nothing is
// written.
void WritePayments(const AggregateSizes& sizes, int64_t base, const std::string& file,
                   const std::string& group, int batch_rows,
                   const std::function<void(v1::IngestRequest&)>& on_batch);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_DATA_H_
