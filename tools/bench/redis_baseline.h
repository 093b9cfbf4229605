#ifndef FABRIQUE_TOOLS_BENCH_REDIS_BASELINE_H_
#define FABRIQUE_TOOLS_BENCH_REDIS_BASELINE_H_

// The Redis baseline of the online-lookup benchmark: a redis-server of its own on a free loopback
// port (no persistence), and a hiredis client that stores and reads feature rows the way Feast's
// Redis online store lays them out: one hash per entity per feature group, one field per
// feature (plus the row's event time), read back with HMGET, n commands pipelined per lookup.
//
// Values are stored as the 4 raw bytes of the float (little-endian), the cheapest encoding for
// Redis and its client, so the baseline is as strong as it can be. (Feast itself stores a
// serialised protobuf Value per field and hashes field names with murmur3; both cost Redis more.)

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tools/cli/child_process.h"

struct redisContext;

namespace fabrique::bench {

// A redis-server started with --save "" --appendonly no on 127.0.0.1, its working dir and log in
// `dir`; stopped with SHUTDOWN NOSAVE (then SIGKILL) when destroyed.
class RedisServer {
 public:
  // Starts `binary` (a path) on a free port, with `extra_flags` after ours, and waits up to
  // `timeout` for it to answer PING.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      const std::string& binary, const std::string& dir,
      const std::vector<std::string>& extra_flags = {}, absl::Duration timeout = absl::Seconds(20));
  ~RedisServer();

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }

 private:
  RedisServer(std::unique_ptr<cli::ChildProcess> process, int port)
      : process_(std::move(process)), port_(port) {}
  std::unique_ptr<cli::ChildProcess> process_;
  int port_;
};

// One connection to Redis holding feature rows of group `group`: key "<group>:<entity key>",
// fields = the feature names, plus "_ts" (event time, 8 raw bytes) as Feast keeps "_ts:<view>".
// Not thread-safe: one per client thread.
class RedisFeatureClient {
 public:
  static absl::StatusOr<std::unique_ptr<RedisFeatureClient>> Connect(
      int port, std::string group, std::vector<std::string> features,
      absl::Duration timeout = absl::Seconds(5));
  ~RedisFeatureClient();

  // Stores rows with pipelined HSET, one command per entity. `values` is row-major:
  // values[r * features + f] is feature f of entity_keys[r].
  absl::Status Store(absl::Span<const std::string> entity_keys, absl::Span<const float> values,
                     int64_t event_time_micros);

  // Reads every feature of `entity_keys` with n pipelined HMGETs (all sent, then every reply
  // read) into `values` (row-major, resized) and the event times into `times`. A missing entity
  // or field is NOT_FOUND: the benchmark only reads keys it stored.
  absl::Status Lookup(absl::Span<const std::string* const> entity_keys, std::vector<float>* values,
                      std::vector<int64_t>* times);

  // Number of keys in the database (DBSIZE).
  absl::StatusOr<int64_t> KeyCount();

 private:
  RedisFeatureClient(redisContext* context, std::string group, std::vector<std::string> features);
  // Reads one reply per pipelined command, for `commands` commands; the first error wins.
  absl::Status DrainReplies(int commands);

  redisContext* context_;
  const std::string group_;
  const std::vector<std::string> features_;
  // The HMGET argv without its key (argv[1]), reused by every lookup.
  std::vector<const char*> hmget_argv_;
  std::vector<size_t> hmget_lengths_;
  std::vector<std::string> key_buffer_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_REDIS_BASELINE_H_
