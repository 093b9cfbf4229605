#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_SCHEMA_EVOLUTION_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_SCHEMA_EVOLUTION_H_

// How a feature group's schema may evolve. Stored rows, online values and trained models refer to
// features by name and type, so the rules keep every stored value readable under every later
// schema version:
//
//   * adding features is allowed and makes a new schema version (the current one + 1); each new
//     feature's since_version records that version;
//   * removing a feature, or changing its type, vector length or expression (derived features),
//     is refused with FAILED_PRECONDITION naming the features (add a feature under a new name
//     instead);
//   * changing the group's entity is refused the same way (its keys would mean something else);
//   * anything else (descriptions, tags, owner, TTL, retention, expectations) is metadata: it
//     updates the group in place and keeps its schema version.
//
// A feature's position never changes: existing features keep their order whatever order the new
// spec lists them in, and added features go after them, in the order given. Storage can thus
// address features by index, and index i means the same feature in every later version.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// What applying a desired spec to a group does.
struct SchemaChange {
  // The spec to store: existing features first (since_version kept, everything else from the
  // desired spec), then added ones (since_version = schema_version).
  v1::FeatureGroupSpec spec;
  // The schema version the group has after the change: the current one, or the current one + 1
  // when features were added (1 for a new group).
  int32_t schema_version = 0;
  // Names of the features added, in spec order (every feature for a new group).
  std::vector<std::string> added_features;
  // True when anything other than added features differs from the current definition.
  bool metadata_changed = false;

  bool schema_changed() const { return !added_features.empty(); }
  // True when the desired spec is what is stored already: applying it again writes nothing.
  bool unchanged() const { return !schema_changed() && !metadata_changed; }
};

// Computes the change from `current` (the group's latest definition, or nullptr for a group that
// does not exist yet) to `desired`, which must already have passed ValidateFeatureGroupSpec.
// since_version in `desired` is output-only and ignored. Errors: FAILED_PRECONDITION naming each
// removed or retyped feature, or the entity when it changed.
absl::StatusOr<SchemaChange> PlanSchemaChange(const v1::FeatureGroup* current,
                                              const v1::FeatureGroupSpec& desired);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_SCHEMA_EVOLUTION_H_
