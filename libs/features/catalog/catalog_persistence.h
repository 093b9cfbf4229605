#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PERSISTENCE_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PERSISTENCE_H_

// How the catalog lies in its column family of the kv::Store, and how it is read back at open.
// Records are serialized protos under kv::KeyBuilder keys:
//
//   (uint8 1, string entity name)                       -> v1::Entity
//   (uint8 2, string group name, uint32 schema version)  -> v1::FeatureGroup at that version
//
// Every version of a group has its own record, so old versions stay readable; an apply that only
// changes metadata rewrites the latest version's record. The layout is an on-disk format: add
// tags, never change one.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/core/clock.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/kv/store.h"

namespace fabrique::features {

std::string EntityKey(absl::string_view name);
std::string GroupVersionKey(absl::string_view group, int32_t schema_version);

// Reads every entity and group version in `family` and compiles each group's validation plan
// (with `clock`, see ValidationPlan::Build). DATA_LOSS naming the key for a record that does not
// parse, disagrees with its key, or a group whose versions are not 1, 2, ... without gaps.
absl::StatusOr<std::shared_ptr<const CatalogState>> LoadCatalogState(const kv::Store& store,
                                                                     kv::ColumnFamily family,
                                                                     const core::Clock* clock);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_PERSISTENCE_H_
