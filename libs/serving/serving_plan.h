#ifndef FABRIQUE_LIBS_SERVING_SERVING_PLAN_H_
#define FABRIQUE_LIBS_SERVING_SERVING_PLAN_H_

// What the registry says this server should serve: for each selected model, its traffic policy
// with its aliases resolved to versions, and those versions' records (signature, artifacts). The
// registry follower builds a plan from the watch and hands each new one to the model set, which
// loads what is new and releases what left; the follower also persists the last plan it applied,
// so a restart with the registry down serves it again.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::serving {

// One served model.
struct ServedModelPlan {
  std::string model;
  std::string owner_squad;  // The model's squad: who may call it.
  // The registry's policy; primary_alias and candidate_alias filled in with their defaults
  // ("production", "candidate") when empty.
  v1::TrafficPolicy policy;
  // The version the primary alias names; 0 when the alias is unset (the model is then listed but
  // nothing is served for it).
  int64_t primary_version = 0;
  // The version the candidate alias names when the policy gives it a canary share or shadow; 0
  // otherwise, or when the alias is unset.
  int64_t candidate_version = 0;
  // The records of every version above (and of versions loaded for capacity validation), by
  // number.
  std::map<int64_t, v1::ModelVersion> versions;
};

struct ServingPlan {
  // The registry revision this plan reflects (every change up to it applied).
  int64_t revision = 0;
  // True when read back from the local cache at start because the registry could not be
  // reached: served, but perhaps stale.
  bool from_cache = false;
  std::vector<ServedModelPlan> models;  // Sorted by model name.
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_SERVING_PLAN_H_
