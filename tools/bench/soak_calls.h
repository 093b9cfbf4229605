#ifndef FABRIQUE_TOOLS_BENCH_SOAK_CALLS_H_
#define FABRIQUE_TOOLS_BENCH_SOAK_CALLS_H_

// The calls the soak makes, as a squad's services make them, each checking its answer:
//   lookup   LookupOnline of every feature of the group for one entity; the values must be the
//            ones ingested before the run (the soak's ingest writes other entities);
//   predict  Predict by entity key for one entity, logged to the monitor; the answer must be the
//            one the answering version (served_by) gives in this process for that entity;
//   ingest   one Ingest stream of a few rows of new values for entities nobody reads, all of them
//            written.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/inference.grpc.pb.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {

// The data the calls read and what they must answer.
struct SoakData {
  std::string entity;  // The entity (join key "id") and group of `width` FLOAT features f0..
  std::string group;
  std::string model;  // The model fed from the group.
  int width = 0;
  std::vector<std::string> keys;  // The entities looked up and predicted, ingested once.
  std::vector<float> values;      // Their features, row-major, `width` per entity.
  // By version: each entity's output (one per entity). Complete before the load starts.
  std::map<int64_t, std::vector<float>> expected;
  int ingest_rows = 10;      // Rows per Ingest call.
  int ingest_keys = 10'000;  // Entities the ingest cycles through ("w0", "w1", ...).
};

class SoakCalls {
 public:
  SoakCalls(const Security& security, const std::string& features_target,
            const std::string& inference_target, const SoakData& data);

  std::string Lookup(uint64_t seq);
  std::string Predict(uint64_t seq);
  std::string Ingest(uint64_t seq);

  // The highest version that has answered a Predict.
  int64_t LatestServed() const { return latest_served_.load(); }
  // Predict calls answered right so far, each a prediction the server logs to the monitor.
  int64_t Predicted() const { return predicted_.load(); }

 private:
  size_t Entity(uint64_t seq) const;

  const Security& security_;
  const SoakData& data_;
  std::unique_ptr<v1::FeatureStore::Stub> lookup_;
  std::unique_ptr<v1::FeatureStore::Stub> ingest_;
  std::unique_ptr<v1::EntityInference::Stub> predict_;
  v1::LookupOnlineRequest lookup_template_;
  std::atomic<int64_t> latest_served_{0};
  std::atomic<int64_t> predicted_{0};
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SOAK_CALLS_H_
