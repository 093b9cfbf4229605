#ifndef FABRIQUE_LIBS_SERVING_PLAN_STORE_H_
#define FABRIQUE_LIBS_SERVING_PLAN_STORE_H_

// The last serving plan this server applied, kept beside the artifact cache, so a restart while
// the registry is down serves what it served before (the plan names the versions, the cache holds
// their modules).
//
// The file (`<dir>/serving_plan.bin`) is replaced atomically: written to a temporary file,
// fsynced, renamed. A crash mid-write leaves the previous plan intact and a temporary file that
// Load never reads.
//
// Format: the magic "FQPLAN1\n", then varints and length-delimited serialized protobuf messages:
//   revision, model count, then per model: v1::Model (name and owner_squad only),
//   v1::TrafficPolicy, primary_version, candidate_version, version count, v1::ModelVersion each;
// and last the lower-case hex SHA-256 of everything before it.
// Why: the records are the registry's own protobuf messages, which stay readable across additive
// proto changes (a newer server reads an older file with defaults; an older one skips fields it
// does not know), and keep fields this server does not use (metrics, lineage) intact for the next
// one. The few numbers around them are framing, versioned by the magic. The trailing hash turns a
// file damaged on disk into DATA_LOSS instead of a wrong plan.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/serving/serving_plan.h"

namespace fabrique::serving {

struct PlanStoreOptions {
  // The directory the plan is kept in (usually the artifact cache's); created when absent.
  // Required.
  std::string dir;
};

class PlanStore {
 public:
  using Options = PlanStoreOptions;

  // INVALID_ARGUMENT when dir is empty; FAILED_PRECONDITION naming it when it cannot be created.
  static absl::StatusOr<std::unique_ptr<PlanStore>> Create(Options options);

  // Replaces the stored plan with `plan` (from_cache is not stored). FAILED_PRECONDITION naming
  // the file when it cannot be written.
  absl::Status Save(const ServingPlan& plan) const;

  // The stored plan, with from_cache = true; nullopt when none was ever saved. DATA_LOSS naming
  // the file when it is damaged or of an unknown format.
  absl::StatusOr<std::optional<ServingPlan>> Load() const;

  // The file the plan is kept in.
  const std::string& path() const { return path_; }

  // The bytes Save writes for `plan`, and the plan Load reads back from them (exposed for tests).
  static std::string Encode(const ServingPlan& plan);
  static absl::StatusOr<ServingPlan> Decode(const std::string& bytes);

 private:
  explicit PlanStore(std::string path) : path_(std::move(path)) {}

  const std::string path_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_PLAN_STORE_H_
