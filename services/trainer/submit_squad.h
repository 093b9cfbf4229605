#ifndef FABRIQUE_SERVICES_TRAINER_SUBMIT_SQUAD_H_
#define FABRIQUE_SERVICES_TRAINER_SUBMIT_SQUAD_H_

// The squad a submission trains for when it names none: the submitter's only squad holding
// runs.submit. Most people work in one squad, so they need not repeat it on every run; someone
// in several (or an admin, who holds it in every squad) must say which, since the squad owns the
// run and the model it registers.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "libs/server/access.h"

namespace fabrique::services {

inline constexpr absl::string_view kSubmitPermission = "runs.submit";

// `asked` when it is not empty; otherwise the one squad where the caller of `context` holds
// runs.submit (with a service acting for a user, where both do and the service may delegate).
// The caller's authentication errors as the guard gives them; PERMISSION_DENIED when they hold
// runs.submit nowhere; INVALID_ARGUMENT asking for --squad when they hold it in several squads
// or in every one (an admin, or a trainer running with --insecure).
absl::StatusOr<std::string> SubmitSquad(const server::Access& guard,
                                        const grpc::ServerContextBase& context,
                                        absl::string_view asked);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_SUBMIT_SQUAD_H_
