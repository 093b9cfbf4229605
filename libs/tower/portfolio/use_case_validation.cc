#include "libs/tower/portfolio/use_case_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/tower/portfolio/value_scores.h"

namespace fabrique::tower {
namespace {

constexpr size_t kMaxNameLength = 63;

absl::Status ValidateScore(absl::string_view field, int32_t score) {
  if (score >= 0 && score <= 10) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " ", score, " is outside 1..10 (0 = unset)"));
}

absl::Status ValidateMoney(absl::string_view field, const v1::Money& money) {
  if (ToMicros(money) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is negative"));
  }
  if (money.nanos() <= -1'000'000'000 || money.nanos() >= 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".nanos must be within (-1e9, 1e9)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSkillNeeds(const google::protobuf::RepeatedPtrField<v1::SkillNeed>& needs) {
  for (const v1::SkillNeed& need : needs) {
    if (need.skill() == v1::SKILL_UNSPECIFIED || !v1::Skill_IsValid(need.skill())) {
      return absl::InvalidArgumentError(
          "skills_needed names no skill; use DATA_SCIENCE, DATA_ENGINEERING, DATA_QUALITY, MLOPS "
          "or DOMAIN");
    }
    if (!(need.fte() >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("skills_needed ", v1::Skill_Name(need.skill()),
                                                     " has a negative fte (", need.fte(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRetraining(const v1::RetrainingPolicy& retraining) {
  if (retraining.canary_percent() < 0 || retraining.canary_percent() > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retraining.canary_percent ", retraining.canary_percent(), " is outside 0..100 (0 = 10)"));
  }
  if (!retraining.candidate_alias().empty()) {
    return ValidateName("retraining.candidate_alias", retraining.candidate_alias());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateName(absl::string_view what, absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is required"));
  bool valid = name.size() <= kMaxNameLength && absl::ascii_islower(name[0]);
  for (char c : name) {
    valid = valid && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " '", name, "' must match [a-z][a-z0-9-]* and be at most ", kMaxNameLength,
                   " characters, e.g. 'churn-scoring'"));
}

absl::Status ValidateUseCase(const v1::UseCase& use_case) {
  RETURN_IF_ERROR(ValidateName("use_case.squad", use_case.squad()));
  RETURN_IF_ERROR(ValidateScore("business_value", use_case.business_value()));
  RETURN_IF_ERROR(ValidateScore("time_criticality", use_case.time_criticality()));
  RETURN_IF_ERROR(ValidateScore("risk_reduction", use_case.risk_reduction()));
  RETURN_IF_ERROR(ValidateScore("job_size", use_case.job_size()));
  RETURN_IF_ERROR(ValidateMoney("estimated_annual_value", use_case.estimated_annual_value()));
  RETURN_IF_ERROR(ValidateMoney("estimated_cost", use_case.estimated_cost()));
  RETURN_IF_ERROR(ValidateSkillNeeds(use_case.skills_needed()));
  return ValidateRetraining(use_case.retraining());
}

absl::Status ValidateTemplate(const v1::Template& template_) {
  RETURN_IF_ERROR(ValidateName("template.name", template_.name()));
  RETURN_IF_ERROR(ValidateSkillNeeds(template_.skills_needed()));
  return ValidateRetraining(template_.retraining());
}

}  // namespace fabrique::tower
