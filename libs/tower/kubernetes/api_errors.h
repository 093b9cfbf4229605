#ifndef FABRIQUE_LIBS_TOWER_KUBERNETES_API_ERRORS_H_
#define FABRIQUE_LIBS_TOWER_KUBERNETES_API_ERRORS_H_

// The one place where the Kubernetes API's answers become absl::Status, by what the tower should
// do next:
//   401, 403       PERMISSION_DENIED: the tower's service account lacks a grant; the message names
//                  the RBAC manifest that gives it;
//   404            NOT_FOUND;
//   409            ALREADY_EXISTS (a create of a name already taken: the start already happened);
//   400, 422       INVALID_ARGUMENT with the API's own message (the object was refused);
//   410            ABORTED (a resourceVersion too old: read again);
//   429, 5xx       UNAVAILABLE (retry later); transport errors and timeouts are UNAVAILABLE too.
// The API's message comes from the metav1.Status body when there is one.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::tower {

// Where the grants the tower needs are declared, for PERMISSION_DENIED messages.
inline constexpr absl::string_view kTowerRbacManifest = "deploy/kubernetes/base/tower-rbac.yaml";

// OK for 2xx; otherwise the status above, its message starting with `what` and `method`.
absl::Status StatusFromApiAnswer(long http_status,  // NOLINT(runtime/int)
                                 absl::string_view body, absl::string_view method,
                                 absl::string_view what);

// The `message` of a metav1.Status body, or the body itself (shortened) when it is not one.
std::string ApiMessage(absl::string_view body);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_KUBERNETES_API_ERRORS_H_
