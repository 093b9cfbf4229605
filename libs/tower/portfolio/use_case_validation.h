#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_USE_CASE_VALIDATION_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_USE_CASE_VALIDATION_H_

// What the portfolio refuses before storing anything, as INVALID_ARGUMENT naming the field and
// what would be accepted.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// Ids and template names: [a-z][a-z0-9-]*, at most 63 characters. `what` names the field.
absl::Status ValidateName(absl::string_view what, absl::string_view name);

// The fields a use case states: its squad, scores on 0..10, money not negative, skills needs,
// the retraining policy.
absl::Status ValidateUseCase(const v1::UseCase& use_case);

// A template's name and the skills it needs.
absl::Status ValidateTemplate(const v1::Template& template_);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_USE_CASE_VALIDATION_H_
