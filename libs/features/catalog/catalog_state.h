#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_STATE_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_STATE_H_

// The catalog's in-memory copy: an immutable snapshot of every entity and feature group. Catalog
// never modifies a snapshot; each apply builds the next one (copying the maps, sharing every
// unchanged definition) and publishes it with a pointer swap. Readers therefore hold no lock
// while they list or validate, and a listing sees one consistent catalog.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/row_validator.h"

namespace fabrique::features {

// One feature group: every schema version, and the validation plan of the latest.
struct GroupEntry {
  // versions[i] is the group at schema version i + 1. The last is the current definition;
  // earlier ones are as they were when the next version superseded them.
  std::vector<std::shared_ptr<const v1::FeatureGroup>> versions;
  // Compiled from versions.back().
  std::shared_ptr<const ValidationPlan> plan;
  // Names of the latest definition's PERSONAL_DATA features, sorted (classification.h): reads
  // check them without walking the spec, and a group with none costs one emptiness test.
  std::vector<std::string> personal;

  const v1::FeatureGroup& latest() const { return *versions.back(); }
};

struct CatalogState {
  // By name; std::less<> so that absl::string_view looks names up without a copy.
  std::map<std::string, std::shared_ptr<const v1::Entity>, std::less<>> entities;
  std::map<std::string, std::shared_ptr<const GroupEntry>, std::less<>> groups;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_STATE_H_
