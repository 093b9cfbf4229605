#include "libs/tower/approvals/approval_rules.h"

#include "absl/strings/str_cat.h"

namespace fabrique::tower {

v1::ApprovalRule DefaultApprovalRule(v1::ApprovalKind kind) {
  v1::ApprovalRule rule;
  rule.set_kind(kind);
  rule.set_required_approvals(1);
  const int64_t ttl = absl::ToInt64Seconds(kDefaultApprovalTtl);
  rule.mutable_ttl()->set_seconds(ttl);
  switch (kind) {
    case v1::APPROVAL_KIND_USE_CASE:
    case v1::APPROVAL_KIND_QUOTA_INCREASE:
      rule.set_required_role("design-authority");
      break;
    default:
      rule.set_required_role("platform-admin");
      break;
  }
  return rule;
}

absl::Status ValidateApprovalRule(const v1::ApprovalRule& rule) {
  if (rule.kind() == v1::APPROVAL_KIND_UNSPECIFIED || !v1::ApprovalKind_IsValid(rule.kind())) {
    return absl::InvalidArgumentError(
        "rule.kind is required: use-case, quota-increase, budget-overrun or entity-onboarding");
  }
  if (rule.required_role().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("rule.required_role is required for ",
                                                   ApprovalKindName(rule.kind()),
                                                   " approvals, e.g. \"design-authority\""));
  }
  if (rule.required_approvals() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rule.required_approvals is ", rule.required_approvals(), "; it must be 0 (= 1) or more"));
  }
  if (rule.ttl().seconds() < 0 || rule.ttl().nanos() < 0) {
    return absl::InvalidArgumentError("rule.ttl is negative; 0 = never expires");
  }
  return absl::OkStatus();
}

std::string ApprovalKindName(v1::ApprovalKind kind) {
  switch (kind) {
    case v1::APPROVAL_KIND_USE_CASE:
      return "use-case";
    case v1::APPROVAL_KIND_QUOTA_INCREASE:
      return "quota-increase";
    case v1::APPROVAL_KIND_BUDGET_OVERRUN:
      return "budget-overrun";
    case v1::APPROVAL_KIND_ENTITY_ONBOARDING:
      return "entity-onboarding";
    default:
      return "unspecified";
  }
}

absl::Status CheckPayloadMatchesKind(const v1::Approval& approval) {
  v1::Approval::PayloadCase expected = v1::Approval::PAYLOAD_NOT_SET;
  switch (approval.kind()) {
    case v1::APPROVAL_KIND_USE_CASE:
      expected = v1::Approval::kUseCase;
      break;
    case v1::APPROVAL_KIND_QUOTA_INCREASE:
      expected = v1::Approval::kQuotaIncrease;
      break;
    case v1::APPROVAL_KIND_BUDGET_OVERRUN:
      expected = v1::Approval::kBudgetOverrun;
      break;
    case v1::APPROVAL_KIND_ENTITY_ONBOARDING:
      expected = v1::Approval::kEntityOnboarding;
      break;
    default:
      return absl::InvalidArgumentError(
          "kind is required: use-case, quota-increase, budget-overrun or entity-onboarding");
  }
  if (approval.payload_case() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", ApprovalKindName(approval.kind()),
        " approval carries its own payload (the field named like its kind); this "
        "one carries ",
        approval.payload_case() == v1::Approval::PAYLOAD_NOT_SET ? std::string("none")
                                                                 : std::string("another kind's")));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::tower
