#ifndef FABRIQUE_LIBS_AUTH_PERMISSIONS_H_
#define FABRIQUE_LIBS_AUTH_PERMISSIONS_H_

// The one catalog of permissions. A policy may grant only what is listed here (a typo in a policy
// file is an error, not a grant that never matches), every method table names one of these, and
// `fabrique auth can-i` and the README show the descriptions.
//
// Names are dotted, area first: `models.read`, `features.personal.read`. A permission is checked
// in a squad: the squad that owns what the call touches (see method_table.h).

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace fabrique::auth {

struct Permission {
  absl::string_view name;         // e.g. "models.approve".
  absl::string_view description;  // One line, for people: what holding it lets a caller do.
};

// Every permission, grouped by area.
absl::Span<const Permission> AllPermissions();

// The permission named `name`, or null when the catalog has none by that name.
const Permission* FindPermission(absl::string_view name);

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_PERMISSIONS_H_
