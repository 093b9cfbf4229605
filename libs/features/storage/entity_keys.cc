#include "libs/features/storage/entity_keys.h"

#include "absl/strings/str_cat.h"

namespace fabrique::features {

absl::StatusOr<int> EntityRowCount(const EntityKeyColumns& columns) {
  if (columns.empty()) return 0;
  const int rows = columns[0].keys_size();
  for (const v1::EntityKeys& column : columns) {
    if (column.keys_size() != rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("entity key columns differ in length: '", columns[0].entity(), "' has ",
                       rows, " keys, '", column.entity(), "' has ", column.keys_size()));
    }
  }
  return rows;
}

absl::StatusOr<const KeyColumn*> FindEntityKeys(const EntityKeyColumns& columns,
                                                absl::string_view entity, absl::string_view group) {
  for (const v1::EntityKeys& column : columns) {
    if (column.entity() == entity) return &column.keys();
  }
  if (columns.size() == 1 && columns[0].entity().empty()) return &columns[0].keys();
  return absl::InvalidArgumentError(
      absl::StrCat("no keys for entity '", entity, "', which feature group '", group,
                   "' needs: send an EntityKeys column named '", entity, "'"));
}

}  // namespace fabrique::features
