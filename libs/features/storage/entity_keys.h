#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ENTITY_KEYS_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ENTITY_KEYS_H_

// Requests that read features (online lookups, label events) carry one EntityKeys column per
// entity; a group reads the column of its entity. These helpers pick it and check the shapes.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "google/protobuf/repeated_field.h"

namespace fabrique::features {

using KeyColumn = google::protobuf::RepeatedPtrField<std::string>;
using EntityKeyColumns = google::protobuf::RepeatedPtrField<v1::EntityKeys>;

// The number of rows of `columns`: their common length (0 when there is none). INVALID_ARGUMENT
// when two columns differ in length.
absl::StatusOr<int> EntityRowCount(const EntityKeyColumns& columns);

// The keys of `entity` (the entity of group `group`): the column named `entity`, or else the one
// unnamed column when it is the only column. INVALID_ARGUMENT naming the entity and group when
// there is none.
absl::StatusOr<const KeyColumn*> FindEntityKeys(const EntityKeyColumns& columns,
                                                absl::string_view entity, absl::string_view group);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ENTITY_KEYS_H_
