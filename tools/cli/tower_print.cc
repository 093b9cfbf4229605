#include "tools/cli/tower_print.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/tower_args.h"

namespace fabrique::cli {
namespace {

using google::protobuf::util::TimeUtil;

std::string Or(const std::string& text, const char* empty = "-") {
  return text.empty() ? std::string(empty) : text;
}

std::string Skills(const google::protobuf::RepeatedField<int>& skills) {
  std::vector<std::string> names;
  for (int skill : skills) names.push_back(EnumText(v1::Skill_descriptor(), skill));
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string Needs(const google::protobuf::RepeatedPtrField<v1::SkillNeed>& needs) {
  std::vector<std::string> parts;
  for (const v1::SkillNeed& need : needs) {
    parts.push_back(
        absl::StrFormat("%s=%g", EnumText(v1::Skill_descriptor(), need.skill()), need.fte()));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ",");
}

std::string Duration(const google::protobuf::Duration& duration) {
  const int64_t seconds = duration.seconds();
  if (seconds == 0) return "-";
  if (seconds >= 86400) return absl::StrFormat("%.1fd", seconds / 86400.0);
  if (seconds >= 3600) return absl::StrFormat("%.1fh", seconds / 3600.0);
  if (seconds >= 60) return absl::StrFormat("%dm", seconds / 60);
  return absl::StrFormat("%ds", seconds);
}

std::string Limit(v1::Resource resource, bool set, int64_t value) {
  return set ? FormatQuantity(resource, value) : "-";
}

void Line(std::ostream& out, const char* label, const std::string& value) {
  if (!value.empty()) out << absl::StrFormat("%-15s %s\n", absl::StrCat(label, ":"), value);
}

}  // namespace

std::string FormatRequest(const v1::ResourceRequest& request) {
  const double cores = request.cpu_cores() == 0 ? 1 : request.cpu_cores();
  const int64_t memory = request.memory_bytes() == 0 ? int64_t{1} << 30 : request.memory_bytes();
  std::string text = absl::StrCat(
      "cpu ", FormatQuantity(v1::RESOURCE_CPU, static_cast<int64_t>(cores * 1000 + 0.5)),
      ", memory ", FormatQuantity(v1::RESOURCE_MEMORY, memory));
  if (request.gpus() > 0) absl::StrAppend(&text, ", gpu ", request.gpus());
  if (!request.flavor().empty()) absl::StrAppend(&text, " (", request.flavor(), ")");
  return text;
}

std::string JobStateText(v1::JobState state) { return EnumText(v1::JobState_descriptor(), state); }

void PrintEntities(const v1::ListOrgEntitiesResponse& entities, std::ostream& out) {
  out << absl::StrFormat("%-16s %-28s %-14s %s\n", "ENTITY", "NAME", "COHORT", "SQUADS");
  for (const v1::OrgEntity& entity : entities.entities()) {
    out << absl::StrFormat("%-16s %-28s %-14s %s\n", entity.id(), Or(entity.display_name()),
                           Or(entity.default_cohort(), entity.id().c_str()),
                           entity.squads().empty() ? "-" : absl::StrJoin(entity.squads(), ","));
  }
}

void PrintSquads(const v1::ListSquadsResponse& squads, std::ostream& out) {
  out << absl::StrFormat("%-16s %-14s %-26s %-7s %s\n", "SQUAD", "ENTITY", "NAME", "WEIGHT",
                         "MEMBERS");
  for (const v1::Squad& squad : squads.squads()) {
    std::vector<std::string> users;
    for (const v1::SquadMember& member : squad.members()) users.push_back(member.user());
    out << absl::StrFormat("%-16s %-14s %-26s %-7g %s\n", squad.id(), squad.entity(),
                           Or(squad.display_name()),
                           squad.share_weight() == 0 ? 1.0 : squad.share_weight(),
                           users.empty() ? "-" : absl::StrJoin(users, ","));
  }
}

void PrintSquad(const v1::Squad& squad, std::ostream& out) {
  Line(out, "squad", squad.id());
  Line(out, "entity", squad.entity());
  Line(out, "name", squad.display_name());
  Line(out, "description", squad.description());
  Line(out, "share weight",
       absl::StrFormat("%g", squad.share_weight() == 0 ? 1.0 : squad.share_weight()));
  Line(out, "etag", squad.etag());
  out << absl::StrFormat("%-16s %-36s %-34s %s\n", "MEMBER", "ROLES", "SKILLS", "ALLOCATION");
  for (const v1::SquadMember& member : squad.members()) {
    out << absl::StrFormat("%-16s %-36s %-34s %g%%\n", member.user(),
                           member.roles().empty() ? "-" : absl::StrJoin(member.roles(), ","),
                           Skills(member.skills()),
                           member.allocation_percent() == 0 ? 100.0 : member.allocation_percent());
  }
}

void PrintUseCases(const v1::ListUseCasesResponse& use_cases, std::ostream& out) {
  out << absl::StrFormat("%-20s %-14s %-14s %-7s %-7s %-18s %s\n", "USE CASE", "SQUAD", "STATUS",
                         "WSJF", "ROI", "VALUE", "NAME");
  for (const v1::UseCase& use_case : use_cases.use_cases()) {
    out << absl::StrFormat(
        "%-20s %-14s %-14s %-7.2f %-7.2f %-18s %s\n", use_case.id(), use_case.squad(),
        EnumText(v1::UseCaseStatus_descriptor(), use_case.status()), use_case.wsjf(),
        use_case.roi(), FormatMoney(use_case.estimated_annual_value()), use_case.name());
  }
}

void PrintPortfolio(const v1::Portfolio& portfolio, std::ostream& out) {
  out << absl::StrFormat("%-4s %-20s %-14s %-14s %6s %7s %-34s %-8s %s\n", "RANK", "USE CASE",
                         "SQUAD", "STATUS", "WSJF", "ROI", "SPENT / ESTIMATE", "SKILLS",
                         "MODELS IN PRODUCTION");
  for (const v1::PortfolioEntry& entry : portfolio.entries()) {
    const v1::UseCase& use_case = entry.use_case();
    std::vector<std::string> models;
    for (const v1::PortfolioModel& model : entry.models()) {
      models.push_back(model.production_version() > 0
                           ? absl::StrCat(model.model(), ":", model.production_version())
                           : absl::StrCat(model.model(), " (none)"));
    }
    std::string skills = entry.skills_covered() ? "covered" : "GAP";
    const double estimate = MoneyValue(entry.compute_estimate());
    std::string spend = absl::StrCat(FormatMoney(entry.compute_spent()), " / ",
                                     FormatMoney(entry.compute_estimate()));
    if (estimate > 0) {
      absl::StrAppendFormat(&spend, " %.0f%%", 100 * MoneyValue(entry.compute_spent()) / estimate);
    }
    out << absl::StrFormat("%-4d %-20s %-14s %-14s %6.2f %7.2f %-34s %-8s %s\n", entry.rank(),
                           use_case.id(), use_case.squad(),
                           EnumText(v1::UseCaseStatus_descriptor(), use_case.status()),
                           use_case.wsjf(), use_case.roi(), spend, skills,
                           models.empty() ? "-" : absl::StrJoin(models, ","));
    for (const v1::SkillGap& gap : entry.skill_gaps()) {
      out << absl::StrFormat("     skill gap: %s needs %g FTE, squad has %g\n",
                             EnumText(v1::Skill_descriptor(), gap.skill()), gap.needed_fte(),
                             gap.available_fte());
    }
  }
  out << absl::StrFormat(
      "%d use cases; estimated value %s; spent %s\n", portfolio.total_use_cases(),
      FormatMoney(portfolio.total_estimated_value()), FormatMoney(portfolio.total_spent()));
  if (!portfolio.next_page_token().empty()) {
    out << "more: --page_token " << portfolio.next_page_token() << "\n";
  }
  out << "\nFunnel:\n"
      << absl::StrFormat("  %-14s %6s  %s\n", "STAGE", "COUNT", "MEDIAN LEAD TIME");
  for (const v1::FunnelStage& stage : portfolio.funnel()) {
    out << absl::StrFormat("  %-14s %6d  %s\n",
                           EnumText(v1::UseCaseStatus_descriptor(), stage.status()), stage.count(),
                           Duration(stage.median_lead_time()));
  }
}

void PrintCapacityGaps(const v1::CapacityGaps& gaps, std::ostream& out) {
  out << "Skills short:\n";
  if (gaps.skills_short().empty()) out << "  none\n";
  for (const v1::SkillShortage& shortage : gaps.skills_short()) {
    out << absl::StrFormat(
        "  %-18s needed %5.2f FTE, available %5.2f, short %5.2f; use cases: %s\n",
        EnumText(v1::Skill_descriptor(), shortage.skill()), shortage.needed_fte(),
        shortage.available_fte(), shortage.needed_fte() - shortage.available_fte(),
        shortage.use_cases().empty() ? "-" : absl::StrJoin(shortage.use_cases(), ","));
  }
  out << "People over-allocated:\n";
  if (gaps.over_allocated().empty()) out << "  none\n";
  for (const v1::OverAllocation& person : gaps.over_allocated()) {
    out << absl::StrFormat("  %-18s %g%% across %s\n", person.user(), person.allocation_percent(),
                           absl::StrJoin(person.squads(), ","));
  }
}

void PrintTemplates(const v1::ListTemplatesResponse& templates, std::ostream& out) {
  out << absl::StrFormat("%-20s %-30s %-22s %s\n", "TEMPLATE", "SKILLS", "UPDATED", "DESCRIPTION");
  for (const v1::Template& t : templates.templates()) {
    out << absl::StrFormat("%-20s %-30s %-22s %s\n", t.name(), Needs(t.skills_needed()),
                           FormatTimestamp(t.update_time()), t.description());
  }
}

void PrintQuota(const v1::Quota& quota, std::ostream& out) {
  out << "squad " << quota.squad() << ", cohort " << Or(quota.cohort(), "(none)") << ", "
      << quota.running_jobs() << " running jobs"
      << (quota.preempt_within_squad() ? ", preempts within the squad" : "") << "\n";
  out << absl::StrFormat("  %-10s %-8s %10s %10s %10s %10s %10s %10s\n", "FLAVOR", "RESOURCE",
                         "NOMINAL", "USED", "BORROWED", "LENT", "BORROW<=", "LEND<=");
  for (const v1::ResourceQuota& r : quota.resources()) {
    const v1::Resource resource = r.resource();
    out << absl::StrFormat(
        "  %-10s %-8s %10s %10s %10s %10s %10s %10s\n", Or(r.flavor(), "default"),
        ResourceName(resource), FormatQuantity(resource, r.nominal()),
        FormatQuantity(resource, r.used()), FormatQuantity(resource, r.borrowed()),
        FormatQuantity(resource, r.lent()),
        Limit(resource, r.has_borrowing_limit(), r.borrowing_limit().value()),
        Limit(resource, r.has_lending_limit(), r.lending_limit().value()));
  }
  if (!quota.jobs_over_quota().empty()) {
    out << "  over quota (no new admissions until usage is back under): "
        << absl::StrJoin(quota.jobs_over_quota(), ", ") << "\n";
  }
}

void PrintQuotas(const v1::ListQuotasResponse& quotas, std::ostream& out) {
  for (const v1::Quota& quota : quotas.quotas()) PrintQuota(quota, out);
  if (quotas.quotas().empty()) out << "no quotas\n";
}

void PrintCapacity(const v1::Capacity& capacity, std::ostream& out) {
  const double factor =
      capacity.oversubscription_factor() == 0 ? 1 : capacity.oversubscription_factor();
  out << absl::StrFormat("oversubscription factor %g\n", factor);
  out << absl::StrFormat("  %-10s %-8s %10s %12s %10s\n", "FLAVOR", "RESOURCE", "CAPACITY",
                         "QUOTAS", "OF ALLOWED");
  for (const v1::FlavorCapacity& f : capacity.flavors()) {
    const double allowed = f.amount() * factor;
    out << absl::StrFormat("  %-10s %-8s %10s %12s %9.0f%%\n", Or(f.flavor(), "default"),
                           ResourceName(f.resource()), FormatQuantity(f.resource(), f.amount()),
                           FormatQuantity(f.resource(), f.quota_total()),
                           allowed > 0 ? 100 * f.quota_total() / allowed : 0.0);
  }
}

void PrintJobs(const v1::ListJobsResponse& jobs, std::ostream& out) {
  out << absl::StrFormat("%-28s %-12s %-16s %-16s %-10s %5s  %s\n", "JOB", "SQUAD", "USE CASE",
                         "STATE", "KIND", "PRIO", "REASON");
  for (const v1::Job& job : jobs.jobs()) {
    out << absl::StrFormat("%-28s %-12s %-16s %-16s %-10s %5d  %s\n", job.id(), job.squad(),
                           Or(job.use_case_id()), JobStateText(job.state()),
                           EnumText(v1::JobKind_descriptor(), job.kind()), job.priority(),
                           Or(job.state() == v1::JOB_STATE_FAILED && !job.failure_reason().empty()
                                  ? job.failure_reason()
                                  : job.state_reason()));
  }
}

void PrintJob(const v1::Job& job, std::ostream& out) {
  Line(out, "job", job.id());
  Line(out, "state", JobStateText(job.state()));
  Line(out, "why", job.state_reason());
  Line(out, "failure", job.failure_reason());
  Line(out, "squad", job.squad());
  Line(out, "use case", job.use_case_id());
  Line(out, "kind", EnumText(v1::JobKind_descriptor(), job.kind()));
  Line(out, "reason", job.reason());
  Line(out, "submitted",
       absl::StrCat(FormatTimestamp(job.create_time()), " by ",
                    FormatPrincipal(job.submitted_by())));
  Line(out, "requests", FormatRequest(job.spec().resources()));
  Line(out, "priority", absl::StrCat(job.priority()));
  if (job.queue_position() > 0) Line(out, "queue position", absl::StrCat(job.queue_position()));
  Line(out, "executor", EnumText(v1::Executor_descriptor(), job.executor()));
  Line(out, "trainer run", job.trainer_run_id());
  if (!job.kubernetes_job_name().empty()) {
    Line(out, "kubernetes",
         absl::StrCat(job.kubernetes_namespace(), "/", job.kubernetes_job_name()));
  }
  Line(out, "approval", job.approval_id());
  if (job.has_admit_time()) Line(out, "admitted", FormatTimestamp(job.admit_time()));
  if (job.has_start_time()) Line(out, "started", FormatTimestamp(job.start_time()));
  if (job.has_end_time()) Line(out, "ended", FormatTimestamp(job.end_time()));
  if (job.borrowing()) Line(out, "borrowing", "yes, quota borrowed from the cohort");
  if (job.preemptions() > 0) {
    Line(out, "preemptions",
         absl::StrCat(job.preemptions(), " (resumes after epoch ", job.checkpoint_epoch(), ")"));
  }
  if (job.has_usage()) {
    Line(out, "usage",
         absl::StrFormat("%.0f cpu-s, %.0f gpu-s, %.0f GiB-s", job.usage().cpu_seconds(),
                         job.usage().gpu_seconds(), job.usage().memory_gib_seconds()));
  }
  if (job.has_cost()) Line(out, "cost", FormatMoney(job.cost()));
  if (job.has_result_version()) {
    Line(out, "registered",
         absl::StrCat(job.result_version().model(), ":", job.result_version().version()));
  }
}

void PrintApprovals(const v1::ListApprovalsResponse& approvals, std::ostream& out) {
  out << absl::StrFormat("%-28s %-18s %-10s %-18s %-20s %-9s %s\n", "APPROVAL", "KIND", "STATE",
                         "SUBJECT", "ROLE", "VOTES", "SUMMARY");
  for (const v1::Approval& a : approvals.approvals()) {
    int approvals_given = 0;
    for (const v1::ApprovalDecision& d : a.decisions()) approvals_given += d.approve() ? 1 : 0;
    out << absl::StrFormat("%-28s %-18s %-10s %-18s %-20s %d/%-7d %s\n", a.id(),
                           EnumText(v1::ApprovalKind_descriptor(), a.kind()),
                           EnumText(v1::ApprovalState_descriptor(), a.state()), Or(a.subject_id()),
                           Or(a.required_role()), approvals_given,
                           a.required_approvals() == 0 ? 1 : a.required_approvals(), a.summary());
  }
}

void PrintApproval(const v1::Approval& a, std::ostream& out) {
  Line(out, "approval", a.id());
  Line(out, "kind", EnumText(v1::ApprovalKind_descriptor(), a.kind()));
  Line(out, "state", EnumText(v1::ApprovalState_descriptor(), a.state()));
  Line(out, "subject", a.subject_id());
  Line(out, "summary", a.summary());
  Line(out, "squad", a.squad());
  Line(out, "needs",
       absl::StrCat(a.required_approvals() == 0 ? 1 : a.required_approvals(), " of role ",
                    Or(a.required_role())));
  Line(out, "requested",
       absl::StrCat(FormatTimestamp(a.create_time()), " by ", FormatPrincipal(a.requested_by())));
  if (a.has_expire_time()) Line(out, "expires", FormatTimestamp(a.expire_time()));
  if (a.has_close_time()) Line(out, "closed", FormatTimestamp(a.close_time()));
  Line(out, "why closed", a.close_reason());
  for (const v1::ApprovalDecision& d : a.decisions()) {
    out << absl::StrFormat("  %-9s by %s at %s%s\n", d.approve() ? "approved" : "rejected",
                           FormatPrincipal(d.by()), FormatTimestamp(d.time()),
                           d.comment().empty() ? "" : absl::StrCat(": ", d.comment()));
  }
}

void PrintApprovalRules(const v1::ListApprovalRulesResponse& rules, std::ostream& out) {
  out << absl::StrFormat("%-20s %-22s %-9s %s\n", "KIND", "ROLE", "NEEDED", "EXPIRES AFTER");
  for (const v1::ApprovalRule& rule : rules.rules()) {
    out << absl::StrFormat(
        "%-20s %-22s %-9d %s\n", EnumText(v1::ApprovalKind_descriptor(), rule.kind()),
        Or(rule.required_role()), rule.required_approvals() == 0 ? 1 : rule.required_approvals(),
        rule.ttl().seconds() == 0 ? "never" : Duration(rule.ttl()));
  }
}

void PrintBudgetReport(const v1::BudgetReport& report, std::ostream& out) {
  out << "Budget " << FormatTimestamp(report.month().start_time()) << " to "
      << FormatTimestamp(report.month().end_time()) << " (" << Or(report.currency_code(), "EUR")
      << ")\n";
  out << absl::StrFormat("%-9s %-20s %16s %16s %16s %7s %-14s %s\n", "SCOPE", "ID", "BUDGET",
                         "SPENT", "FORECAST", "USED", "STATUS", "JOBS");
  for (const v1::BudgetLine& line : report.lines()) {
    std::string status = EnumText(v1::BudgetStatus_descriptor(), line.status());
    if (!line.lifted_by_approval().empty())
      absl::StrAppend(&status, " (", line.lifted_by_approval(), ")");
    out << absl::StrFormat("%-9s %-20s %16s %16s %16s %6.1f%% %-14s %d\n",
                           EnumText(v1::BudgetScope_descriptor(), line.scope()), line.id(),
                           line.has_budget() ? FormatMoney(line.budget()) : "-",
                           FormatMoney(line.spent()), FormatMoney(line.forecast()),
                           line.spent_percent(), status, line.jobs());
  }
  out << "total spent " << FormatMoney(report.total_spent()) << " of "
      << FormatMoney(report.total_budget()) << "\n";
}

void PrintRateCard(const v1::RateCard& card, std::ostream& out) {
  out << absl::StrFormat("%-22s %s\n", "USAGE", "PRICE PER UNIT");
  for (const v1::Rate& rate : card.rates()) {
    out << absl::StrFormat("%-22s %s\n", EnumText(v1::UsageKind_descriptor(), rate.kind()),
                           FormatMoney(rate.price()));
  }
  if (card.has_update_time()) out << "updated " << FormatTimestamp(card.update_time()) << "\n";
}

}  // namespace fabrique::cli
