#ifndef FABRIQUE_TOOLS_BENCH_LOOKUP_CLIENTS_H_
#define FABRIQUE_TOOLS_BENCH_LOOKUP_CLIENTS_H_

// The two sides of the online-lookup benchmark behind one interface: the data set both hold
// (entity keys and a known value for every entity x feature, so any answer can be checked), how
// each is loaded, and a client per system that reads n entities x every feature per lookup.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {

// What both systems store: `entities` rows of group `group` (entity "customer"), each with
// `features` float features f0..f<features-1>, all at one event time.
struct BenchData {
  std::string group;
  int features = 0;
  int64_t entities = 0;
  int64_t event_time_micros = 0;
  std::vector<std::string> keys;  // keys[e]: the entity key of entity e.
  std::vector<std::string> feature_names;

  static BenchData Make(std::string group, int features, int64_t entities,
                        int64_t event_time_micros);
  // The value stored for feature `f` of entity `e`: exact in a float, and different for
  // neighbouring entities and features, so a value read from the wrong place is caught.
  static float ValueOf(int64_t e, int f) {
    return static_cast<float>((e * 50 + f) % 16'777'213) * 0.25f;
  }
};

// One client connection reading n entities x every feature per call. Not thread-safe.
class LookupClient {
 public:
  virtual ~LookupClient() = default;
  // Reads every feature of `entities` (indexes into BenchData::keys).
  virtual absl::Status Lookup(absl::Span<const int32_t> entities) = 0;
  // Checks that the last Lookup, of `entities`, returned exactly the stored values (and, for
  // Fabrique, PRESENT for each).
  virtual absl::Status Verify(absl::Span<const int32_t> entities) const = 0;
};
using ClientFactory = std::function<std::unique_ptr<LookupClient>()>;

// Defines entity and group in fabrique-features at `target`, reached as `security` says, and
// ingests every row over one client-streaming Ingest call, `batch_rows` rows per RowBatch.
absl::Status LoadFabrique(const std::string& target, const Security& security,
                          const BenchData& data, int batch_rows);
// Stores every row in Redis on `port` with pipelined HSET.
absl::Status LoadRedis(int port, const BenchData& data, int batch_rows);

// A Fabrique client with its own channel (and TCP connection, and TLS handshake unless
// `security` is insecure), calling LookupOnline through the sync stub with a deadline and
// `security`'s token. `data` must outlive it. Exits on a connection failure.
std::unique_ptr<LookupClient> ConnectFabrique(const std::string& target, const Security& security,
                                              const BenchData& data);
// The same, calling LookupOnlineStream instead: one stream per client, opened with it, one
// request in flight at a time.
std::unique_ptr<LookupClient> ConnectFabriqueStream(const std::string& target,
                                                    const Security& security,
                                                    const BenchData& data);
// A Redis client with its own connection, reading with n pipelined HMGET.
std::unique_ptr<LookupClient> ConnectRedis(int port, const BenchData& data);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_LOOKUP_CLIENTS_H_
