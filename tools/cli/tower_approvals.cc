// `fabrique tower approvals list | show | request | approve | reject | withdraw | rules`:
// typed approvals (use cases moving to approved, quota increases, budget overruns, entity
// onboardings), decided by holders of a role, never by their requester.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/monitor_args.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

void PrintApprovalOut(const v1::Approval& approval) { PrintApproval(approval, std::cout); }

int ApprovalsList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string state, kind, role, squad;
  bool json = false;
  core::FlagSet flags("fabrique tower approvals list",
                      "Lists approvals with their kind, state, subject, the role that decides "
                      "them and the approvals given so far.");
  flags.set_epilog(
      "Example:\n  fabrique tower approvals list --state pending --role "
      "design-authority\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("state", &state,
            absl::StrCat("Only this state: ", EnumChoices(v1::ApprovalState_descriptor())));
  flags.Add("kind", &kind,
            absl::StrCat("Only this kind: ", EnumChoices(v1::ApprovalKind_descriptor())));
  flags.Add("role", &role, "Only approvals this role decides");
  flags.Add("squad", &squad, "Only approvals checked in this squad");
  flags.Add("json", &json, "Print the approvals as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  v1::ListApprovalsRequest request;
  if (!state.empty()) {
    auto value = ParseTowerEnum<v1::ApprovalState>(v1::ApprovalState_descriptor(), "state", state);
    if (!value.ok()) return BadUsage(flags, value.status().message());
    request.set_state(*value);
  }
  if (!kind.empty()) {
    auto value = ParseTowerEnum<v1::ApprovalKind>(v1::ApprovalKind_descriptor(), "kind", kind);
    if (!value.ok()) return BadUsage(flags, value.status().message());
    request.set_kind(*value);
  }
  request.set_required_role(role);
  request.set_squad(squad);
  return ListTower<v1::ListApprovalsRequest, v1::ListApprovalsResponse>(
      flags.program(), connection, &TowerStub::ListApprovals, request, "ListApprovals", json,
      [](const v1::ListApprovalsResponse& all) { PrintApprovals(all, std::cout); });
}

int ApprovalsShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower approvals show",
                      "Shows an approval: what it is about, who decides, the decisions so far "
                      "and why it closed. --json shows what it applies when approved.");
  flags.set_usage_args("[flags] APPROVAL");
  flags.set_epilog("Example:\n  fabrique tower approvals show apr-01JD...\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the approval as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one APPROVAL", &parsed)) return *code;
  v1::GetApprovalRequest request;
  request.set_id(parsed.positional[0]);
  return CallTower<v1::GetApprovalRequest, v1::Approval>(
      flags.program(), connection, &TowerStub::GetApproval, request, "GetApproval " + request.id(),
      true, json, PrintApprovalOut);
}

struct RequestFlags {
  std::string summary;
  std::string request_id;
  // budget-overrun
  std::string scope;
  std::string until;
  std::string job;
  // quota-increase
  QuotaFlags quota;
  std::string cohort = "\x01";
};

// Fills the payload of `kind` about `subject` from the flags; a quota increase starts from the
// squad's quota in force, read from `tower` (null: the flags are only checked).
absl::Status BuildRequest(v1::ApprovalKind kind, const std::string& subject,
                          const RequestFlags& flags, const client::TowerClient* tower,
                          v1::RequestApprovalRequest* request) {
  request->set_kind(kind);
  request->set_subject_id(subject);
  request->set_summary(flags.summary);
  request->set_request_id(flags.request_id.empty() ? core::IdGenerator::Default().Next()
                                                   : flags.request_id);
  switch (kind) {
    case v1::APPROVAL_KIND_USE_CASE:
      request->mutable_use_case()->set_use_case_id(subject);
      request->mutable_use_case()->set_to(v1::USE_CASE_STATUS_APPROVED);
      return absl::OkStatus();
    case v1::APPROVAL_KIND_BUDGET_OVERRUN: {
      v1::BudgetOverrun* overrun = request->mutable_budget_overrun();
      if (flags.scope.empty()) {
        return absl::InvalidArgumentError("--scope is required: entity, squad or use-case");
      }
      ASSIGN_OR_RETURN(
          v1::BudgetScope scope,
          ParseTowerEnum<v1::BudgetScope>(v1::BudgetScope_descriptor(), "scope", flags.scope));
      overrun->set_scope(scope);
      overrun->set_id(subject);
      overrun->set_job_id(flags.job);
      if (!flags.until.empty()) {
        ASSIGN_OR_RETURN(absl::Time until, ParseMonitorTime("until", flags.until, absl::Now()));
        *overrun->mutable_until() =
            google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(until));
      }
      return absl::OkStatus();
    }
    case v1::APPROVAL_KIND_QUOTA_INCREASE: {
      if (!flags.quota.any()) {
        return absl::InvalidArgumentError("give the new quota: --cpu, --memory or --gpu");
      }
      RETURN_IF_ERROR(CheckQuotaFlags(flags.quota));
      if (tower == nullptr) return absl::OkStatus();
      v1::Quota* quota = request->mutable_quota_increase()->mutable_quota();
      v1::GetQuotaRequest get;
      get.set_squad(subject);
      absl::StatusOr<v1::Quota> current =
          tower->CallIdempotent(&TowerStub::GetQuota, get, "GetQuota " + subject);
      if (current.ok()) {
        *quota = *current;
      } else if (current.status().code() != absl::StatusCode::kNotFound) {
        return current.status();
      }
      quota->set_squad(subject);
      RETURN_IF_ERROR(ApplyQuotaFlags(flags.quota, quota));
      if (flags.cohort != "\x01") quota->set_cohort(flags.cohort);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          "onboard entities with 'fabrique tower entities onboard'; request use-case, "
          "quota-increase or budget-overrun here");
  }
}

int ApprovalsRequest(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  RequestFlags request_flags;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower approvals request",
      "Opens an approval that carries what to apply when approved. Kinds: use-case SUBJECT=USE "
      "CASE (its move to approved); quota-increase SUBJECT=SQUAD with the new quotas (--cpu, "
      "--memory, --gpu, --flavor; the rest stays as in force); budget-overrun SUBJECT=ENTITY, "
      "SQUAD or USE CASE with --scope, lifting its hard threshold (until --until, default the "
      "month's end). Prints the approval's id.");
  flags.set_usage_args("[flags] KIND SUBJECT");
  flags.set_epilog(
      "Examples:\n"
      "  fabrique tower approvals request quota-increase risk --cpu 8 --summary 'Q1 campaign'\n"
      "  fabrique tower approvals request budget-overrun risk --scope squad --until "
      "2026-12-20T00:00:00Z\n"
      "  fabrique tower approvals request use-case fraud-scoring\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("summary", &request_flags.summary, "What is asked and why, for the deciders");
  flags.Add("request_id", &request_flags.request_id,
            "Idempotency key: asking again with it answers the same approval");
  flags.Add("scope", &request_flags.scope, "budget-overrun: entity, squad or use-case");
  flags.Add("until", &request_flags.until,
            "budget-overrun: lifted until this time (RFC 3339); default the month's end");
  flags.Add("job", &request_flags.job, "budget-overrun: the job that waits for it");
  flags.Add("cpu", &request_flags.quota.cpu, "quota-increase: CPU quota, 8 or 500m");
  flags.Add("memory", &request_flags.quota.memory, "quota-increase: memory quota, 16Gi");
  flags.Add("gpu", &request_flags.quota.gpu, "quota-increase: GPU quota");
  flags.Add("flavor", &request_flags.quota.flavor, "quota-increase: the flavour");
  flags.Add("cohort", &request_flags.cohort, "quota-increase: the cohort");
  flags.Add("json", &json, "Print the approval as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "KIND SUBJECT", &parsed)) return *code;
  absl::StatusOr<v1::ApprovalKind> kind =
      ParseTowerEnum<v1::ApprovalKind>(v1::ApprovalKind_descriptor(), "kind", parsed.positional[0]);
  if (!kind.ok()) return BadUsage(flags, kind.status().message());
  // Checked before any call: bad values are usage errors.
  v1::RequestApprovalRequest request;
  if (absl::Status checked =
          BuildRequest(*kind, parsed.positional[1], request_flags, nullptr, &request);
      !checked.ok()) {
    return BadUsage(flags, checked.message());
  }
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  if (absl::Status built =
          BuildRequest(*kind, parsed.positional[1], request_flags, &*tower, &request);
      !built.ok()) {
    if (built.code() == absl::StatusCode::kInvalidArgument) return BadUsage(flags, built.message());
    return Fail(flags.program(), built);
  }
  absl::StatusOr<v1::Approval> approval =
      tower->CallIdempotent(&TowerStub::RequestApproval, request, "RequestApproval");
  if (!approval.ok()) return Fail(flags.program(), approval.status());
  if (json) {
    PrintJson(*approval);
  } else {
    std::cout << "approval: " << approval->id() << "\n";
    PrintApproval(*approval, std::cout);
  }
  return 0;
}

// approve | reject | withdraw ID [--comment C].
int ApprovalsDecide(const std::string& action, const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string comment;
  bool json = false;
  const bool withdraw = action == "withdraw";
  core::FlagSet flags(
      "fabrique tower approvals " + action,
      withdraw ? "Withdraws a pending approval; only its requester may."
               : absl::StrCat(action == "approve" ? "Approves" : "Rejects",
                              " an approval as a holder of the role it asks for. The requester "
                              "may not decide their own (PERMISSION_DENIED, exit 1). ",
                              action == "approve"
                                  ? "Once it has the approvals it needs, what it carries is "
                                    "applied."
                                  : "A job waiting for it fails with the comment as reason."));
  flags.set_usage_args("[flags] APPROVAL");
  flags.set_epilog(
      absl::StrCat("Example:\n  fabrique tower approvals ", action, " apr-01JD... --comment '",
                   action == "approve" ? "fits the Q1 plan" : "not this quarter", "'\n"));
  AddTowerFlags(&flags, &connection);
  flags.Add("comment", &comment, "Why, recorded on the approval");
  flags.Add("json", &json, "Print the approval as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one APPROVAL", &parsed)) return *code;
  if (withdraw) {
    v1::WithdrawApprovalRequest request;
    request.set_id(parsed.positional[0]);
    request.set_comment(comment);
    return CallTower<v1::WithdrawApprovalRequest, v1::Approval>(
        flags.program(), connection, &TowerStub::WithdrawApproval, request,
        "WithdrawApproval " + request.id(), false, json, PrintApprovalOut);
  }
  v1::DecideApprovalRequest request;
  request.set_id(parsed.positional[0]);
  request.set_approve(action == "approve");
  request.set_comment(comment);
  return CallTower<v1::DecideApprovalRequest, v1::Approval>(
      flags.program(), connection, &TowerStub::DecideApproval, request,
      "DecideApproval " + request.id(), false, json, PrintApprovalOut);
}

int RulesSet(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string role;
  int approvals = 1;
  absl::Duration ttl = absl::ZeroDuration();
  bool json = false;
  core::FlagSet flags("fabrique tower approvals rules set",
                      "Sets who decides approvals of a kind: holders of --role, how many of "
                      "them must approve, and how long an approval stays open.");
  flags.set_usage_args("[flags] KIND");
  flags.set_epilog(
      "Example:\n  fabrique tower approvals rules set quota-increase --role design-authority "
      "--approvals 2 --ttl 72h\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("role", &role, "The role whose holders decide (required)");
  flags.Add("approvals", &approvals, "How many approvals are needed");
  flags.Add("ttl", &ttl, "Expires after this long, e.g. 72h; 0 = never");
  flags.Add("json", &json, "Print the rule as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one KIND", &parsed)) return *code;
  absl::StatusOr<v1::ApprovalKind> kind =
      ParseTowerEnum<v1::ApprovalKind>(v1::ApprovalKind_descriptor(), "kind", parsed.positional[0]);
  if (!kind.ok()) return BadUsage(flags, kind.status().message());
  if (role.empty()) return BadUsage(flags, "--role is required: who decides");
  if (approvals < 1) return BadUsage(flags, "--approvals must be 1 or more");
  if (ttl < absl::ZeroDuration()) return BadUsage(flags, "--ttl must not be negative");
  v1::SetApprovalRuleRequest request;
  v1::ApprovalRule* rule = request.mutable_rule();
  rule->set_kind(*kind);
  rule->set_required_role(role);
  rule->set_required_approvals(approvals);
  rule->mutable_ttl()->set_seconds(absl::ToInt64Seconds(ttl));
  return CallTower<v1::SetApprovalRuleRequest, v1::ApprovalRule>(
      flags.program(), connection, &TowerStub::SetApprovalRule, request, "SetApprovalRule", true,
      json, [](const v1::ApprovalRule& rule) {
        v1::ListApprovalRulesResponse one;
        *one.add_rules() = rule;
        PrintApprovalRules(one, std::cout);
      });
}

int RulesList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower approvals rules list",
                      "Lists the approval rules in force, one per kind.");
  flags.set_epilog("Example:\n  fabrique tower approvals rules list\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the rules as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  return CallTower<v1::ListApprovalRulesRequest, v1::ListApprovalRulesResponse>(
      flags.program(), connection, &TowerStub::ListApprovalRules, v1::ListApprovalRulesRequest(),
      "ListApprovalRules", true, json,
      [](const v1::ListApprovalRulesResponse& rules) { PrintApprovalRules(rules, std::cout); });
}

int ApprovalsRules(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"set", "set KIND --role R [--approvals N --ttl D]", "Set who decides a kind", RulesSet},
      {"list", "list", "List the rules in force", RulesList},
  };
  return RunSubcommand("fabrique tower approvals rules",
                       "Who decides approvals of each kind, how many must approve, and when "
                       "they expire.",
                       kSubcommands, args);
}

}  // namespace

int RunTowerApprovals(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"list", "list [--state --kind --role --squad]", "List approvals", ApprovalsList},
      {"show", "show APPROVAL", "Show an approval and its decisions", ApprovalsShow},
      {"request", "request KIND SUBJECT [flags]",
       "Ask for a use-case, quota-increase or budget-overrun approval", ApprovalsRequest},
      {"approve", "approve APPROVAL [--comment C]", "Approve",
       [](const auto& a) { return ApprovalsDecide("approve", a); }},
      {"reject", "reject APPROVAL [--comment C]", "Reject",
       [](const auto& a) { return ApprovalsDecide("reject", a); }},
      {"withdraw", "withdraw APPROVAL [--comment C]", "Withdraw your own pending approval",
       [](const auto& a) { return ApprovalsDecide("withdraw", a); }},
      {"rules", "rules set|list", "Who decides each kind", ApprovalsRules},
  };
  return RunSubcommand("fabrique tower approvals",
                       "Approvals are typed (use-case, quota-increase, budget-overrun, "
                       "entity-onboarding), carry what they apply when approved, need N "
                       "approvals of a role, and are never decided by their requester.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
