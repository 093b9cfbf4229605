#ifndef FABRIQUE_TOOLS_BENCH_AGGREGATE_LOOKUP_BENCH_H_
#define FABRIQUE_TOOLS_BENCH_AGGREGATE_LOOKUP_BENCH_H_

// The online lookup of windowed aggregates beside a plain feature lookup, in process (through
// FeatureStore::LookupOnline, as the service's LookupOnline calls it, without gRPC, which would
// add the same cost to both): `entities` customers each with a plain row of 8 DOUBLE features
// and 20 payments spread over the last 23 hours, ingested row batches at a time (not bulk), so
// that the tiles are maintained at ingest; then pairs of 1-entity lookups, the 8 plain features
// and the 8 aggregates (count, sum, mean and max of the amount over 1 h and 1 d), alternating
// which goes first: first every customer once in a random order (the first lookup of a customer,
// which loads its tiles into the tile cache: p50 and p99 printed), then per repeat `lookups`
// pairs of a random customer (with the tile cache's hits and misses). p50 and p99 of each,
// median of `repeats`,
// and their ratio against the goal (at most 1.5x). Every 25th aggregate answer is checked
// against the payments (count and sum over 1 d, exact); a wrong one exits 1.

#include <cstdint>
#include <string>

namespace fabrique::bench {

struct LookupSizes {
  int64_t entities = 10'000;
  int64_t lookups = 20'000;  // Per kind and repeat.
  int repeats = 3;
};

// Runs the benchmark in `dir` (removed first); returns the exit code.
int RunLookup(const LookupSizes& sizes, const std::string& dir);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_AGGREGATE_LOOKUP_BENCH_H_
