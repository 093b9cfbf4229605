#ifndef FABRIQUE_LIBS_AUTH_TABLES_RULES_H_
#define FABRIQUE_LIBS_AUTH_TABLES_RULES_H_

// Short constructors for the per-service method tables, so each table reads as a list.

#include <string>

#include "absl/strings/string_view.h"
#include "libs/auth/method_table.h"

namespace fabrique::auth::tables {

// Needs `permission` in every squad.
inline MethodRule Platform(absl::string_view permission) {
  return MethodRule{std::string(permission), SquadFrom::kNone, "", "", false};
}

// Needs `permission` in the squad the request's field at `path` names.
inline MethodRule InSquadOf(absl::string_view permission, absl::string_view path) {
  return MethodRule{std::string(permission), SquadFrom::kRequestField, std::string(path), "",
                    false};
}

// Needs `permission` in the squad owning the `resource` whose name is at `path`.
inline MethodRule OwnerOf(absl::string_view permission, absl::string_view resource,
                          absl::string_view path) {
  return MethodRule{std::string(permission), SquadFrom::kResourceOwner, std::string(path),
                    std::string(resource), false};
}

// As OwnerOf, but an empty name means the platform's own (checked in every squad).
inline MethodRule OwnerOrPlatform(absl::string_view permission, absl::string_view resource,
                                  absl::string_view path) {
  MethodRule rule = OwnerOf(permission, resource, path);
  rule.empty_is_platform_wide = true;
  return rule;
}

// Needs `permission` in some squad; results are kept to the squads where it is held.
inline MethodRule InAnySquad(absl::string_view permission) {
  return MethodRule{std::string(permission), SquadFrom::kAnyOwnSquad, "", "", false};
}

}  // namespace fabrique::auth::tables

#endif  // FABRIQUE_LIBS_AUTH_TABLES_RULES_H_
