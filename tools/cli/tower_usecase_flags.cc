#include "tools/cli/tower_usecase_flags.h"

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/tower_args.h"

namespace fabrique::cli {
namespace {

// A WSJF input on 1..10; -1 = not given.
absl::Status CheckScale(const char* flag, int value) {
  if (value == -1 || (value >= 1 && value <= 10)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " ", value, ": a relative score from 1 to 10"));
}

void Mark(google::protobuf::FieldMask* mask, const char* path) {
  if (mask != nullptr) mask->add_paths(path);
}

}  // namespace

void UseCaseFlags::AddTo(core::FlagSet* flags) {
  flags->Add("name", &name, "Its name");
  flags->Add("description", &description, "The business problem it solves");
  flags->Add("squad", &squad, "The squad building it");
  flags->Add("sponsor", &sponsor, "The business sponsor, e.g. cfo-office");
  flags->Add("value", &value, "Estimated annual value, e.g. '1200000 EUR'");
  flags->Add("cost", &cost, "Estimated cost to build and run a year, e.g. '300000 EUR'");
  flags->Add("business_value", &business_value,
             "WSJF: relative business value, 1..10 (unset: from --value)");
  flags->Add("criticality", &criticality, "WSJF: time criticality, 1..10");
  flags->Add("risk", &risk, "WSJF: risk reduction or opportunity enablement, 1..10");
  flags->Add("size", &size, "WSJF: relative job size, 1..10");
  flags->Add("skill", &skills,
             "A skill it needs with its effort in FTE, e.g. data-science=1.5 (repeatable)");
  flags->Add("tag", &tags, "KEY=VALUE tag (repeatable)");
  flags->Add("model", &models, "A registry model serving it (repeatable)");
  flags->Add("candidate_alias", &candidate_alias,
             "Retraining: alias pointed at a retrained version (default candidate)");
  flags->Add("canary", &canary, "Retraining: canary share in percent given to it (default 10)");
  flags->Add("promote_to", &promote_to,
             "Retraining: alias the tower then asks to promote it to, through that alias's "
             "promotion policy (default none: left to people)");
}

absl::Status UseCaseFlags::ApplyTo(v1::UseCase* use_case, google::protobuf::FieldMask* mask) const {
  RETURN_IF_ERROR(CheckScale("business_value", business_value));
  RETURN_IF_ERROR(CheckScale("criticality", criticality));
  RETURN_IF_ERROR(CheckScale("risk", risk));
  RETURN_IF_ERROR(CheckScale("size", size));
  const std::pair<const std::string*, const char*> texts[] = {
      {&name, "name"}, {&description, "description"}, {&squad, "squad"}, {&sponsor, "sponsor"}};
  for (const auto& [text, field] : texts) {
    if (text->empty()) continue;
    use_case->GetReflection()->SetString(use_case,
                                         use_case->GetDescriptor()->FindFieldByName(field), *text);
    Mark(mask, field);
  }
  if (!value.empty()) {
    ASSIGN_OR_RETURN(*use_case->mutable_estimated_annual_value(), ParseMoney("value", value));
    Mark(mask, "estimated_annual_value");
  }
  if (!cost.empty()) {
    ASSIGN_OR_RETURN(*use_case->mutable_estimated_cost(), ParseMoney("cost", cost));
    Mark(mask, "estimated_cost");
  }
  const std::pair<int, const char*> scores[] = {{business_value, "business_value"},
                                                {criticality, "time_criticality"},
                                                {risk, "risk_reduction"},
                                                {size, "job_size"}};
  for (const auto& [score, field] : scores) {
    if (score == -1) continue;
    use_case->GetReflection()->SetInt32(use_case, use_case->GetDescriptor()->FindFieldByName(field),
                                        score);
    Mark(mask, field);
  }
  if (!skills.empty()) {
    use_case->clear_skills_needed();
    for (const std::string& text : skills) {
      ASSIGN_OR_RETURN(*use_case->add_skills_needed(), ParseSkillNeed("skill", text));
    }
    Mark(mask, "skills_needed");
  }
  if (!tags.empty()) {
    use_case->clear_tags();
    RETURN_IF_ERROR(AddKeyValues(tags, "tag", use_case->mutable_tags()));
    Mark(mask, "tags");
  }
  if (!models.empty()) {
    use_case->clear_models();
    for (const std::string& model : models) use_case->add_models(model);
    Mark(mask, "models");
  }
  if (!candidate_alias.empty() || canary != -1 || !promote_to.empty()) {
    if (canary != -1 && (canary <= 0 || canary > 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--canary ", canary, ": a share of traffic in percent, above 0 up to 100"));
    }
    if (!candidate_alias.empty()) {
      use_case->mutable_retraining()->set_candidate_alias(candidate_alias);
    }
    if (canary != -1) use_case->mutable_retraining()->set_canary_percent(canary);
    if (!promote_to.empty()) use_case->mutable_retraining()->set_promote_to_alias(promote_to);
    Mark(mask, "retraining");
  }
  return absl::OkStatus();
}

}  // namespace fabrique::cli
