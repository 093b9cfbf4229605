#ifndef FABRIQUE_LIBS_SERVING_SERVED_MODEL_STATUS_H_
#define FABRIQUE_LIBS_SERVING_SERVED_MODEL_STATUS_H_

// What the model set reports about each model it serves: enough to fill fabrique.v1.ServedModel
// (ListServedModels, GetServedModel) and the per-version gauges, without the set's lock.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/served_version.h"

namespace fabrique::serving {

struct ServedVersionStatus {
  int64_t version = 0;
  // The aliases pointing here: the registry's (the record's) and the policy's primary or
  // candidate alias when the plan resolves it to this version.
  std::vector<std::string> aliases;
  VersionState state = VersionState::kLoading;
  std::string failure_reason;                   // "" unless FAILED.
  absl::Time load_time = absl::InfinitePast();  // When it became READY.
  std::string device;                           // "cpu", "cuda:0"; "" until loaded.
  std::string module_sha256;                    // Lower-case hex.
  int64_t queued_rows = 0;                      // Waiting in its batcher now.
};

struct ServedModelStatus {
  std::string model;
  v1::TrafficPolicy policy;  // In force, aliases defaulted.
  // The versions answering now (0 = none): the previous ones until the planned ones are READY.
  int64_t primary_version = 0;
  int64_t candidate_version = 0;
  // The versions the plan asks for under the primary and candidate aliases (0 = none).
  int64_t planned_primary_version = 0;
  int64_t planned_candidate_version = 0;
  std::vector<ServedVersionStatus> versions;  // By version number, UNLOADING ones included.
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_SERVED_MODEL_STATUS_H_
