#ifndef FABRIQUE_TOOLS_BENCH_AGGREGATE_WRITE_BENCH_H_
#define FABRIQUE_TOOLS_BENCH_AGGREGATE_WRITE_BENCH_H_

// The cost of writing tiles, for features_aggregate_bench --only=write, on the training set's
// payments (tools/bench/aggregate_bench_data.h), each phase in a fresh store:
//
//   backfill:  the payments bulk-ingested, then the aggregation group (count/sum/mean over 1 h
//              and 1 d) applied over them, its backfill timed;
//   ingest:    the payments ingested in batches of 10,000 rows (not bulk) into the source, timed,
//              once with no aggregation group and once with the group applied beforehand, so
//              the difference is what the tiles cost at ingest.
//
// Wall time, the process's CPU time (background flushes and compactions included) and rows per
// wall second.

#include <string>

#include "tools/bench/aggregate_bench_data.h"

namespace fabrique::bench {

// Returns the exit code.
int RunWrite(const AggregateSizes& sizes, const std::string& dir);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_AGGREGATE_WRITE_BENCH_H_
