#ifndef FABRIQUE_TOOLS_CLI_TOWER_PRINT_H_
#define FABRIQUE_TOOLS_CLI_TOWER_PRINT_H_

// How `fabrique tower` shows the tower's records to a person: lists as aligned tables (one row
// per record, the columns a decision needs), single records as "label: value" lines. Quantities
// as Kubernetes writes them, money with its currency, enums in lower case ("in-production").
// --json prints the records themselves instead (json_file.h).

#include <ostream>

#include "fabrique/v1/tower.pb.h"

namespace fabrique::cli {

void PrintEntities(const v1::ListOrgEntitiesResponse& entities, std::ostream& out);
void PrintSquads(const v1::ListSquadsResponse& squads, std::ostream& out);
// A squad with one line per member: roles, skills, allocation.
void PrintSquad(const v1::Squad& squad, std::ostream& out);
void PrintUseCases(const v1::ListUseCasesResponse& use_cases, std::ostream& out);
// The ranked table (rank, WSJF, ROI, status, spend against estimate, skills covered, models in
// production), the totals, then the funnel with each stage's count and median lead time.
void PrintPortfolio(const v1::Portfolio& portfolio, std::ostream& out);
void PrintCapacityGaps(const v1::CapacityGaps& gaps, std::ostream& out);
void PrintTemplates(const v1::ListTemplatesResponse& templates, std::ostream& out);
// One row per resource and flavour: nominal, used, borrowed, lent, limits.
void PrintQuota(const v1::Quota& quota, std::ostream& out);
void PrintQuotas(const v1::ListQuotasResponse& quotas, std::ostream& out);
void PrintCapacity(const v1::Capacity& capacity, std::ostream& out);
void PrintJobs(const v1::ListJobsResponse& jobs, std::ostream& out);
void PrintJob(const v1::Job& job, std::ostream& out);
void PrintApprovals(const v1::ListApprovalsResponse& approvals, std::ostream& out);
void PrintApproval(const v1::Approval& approval, std::ostream& out);
void PrintApprovalRules(const v1::ListApprovalRulesResponse& rules, std::ostream& out);
void PrintBudgetReport(const v1::BudgetReport& report, std::ostream& out);
void PrintRateCard(const v1::RateCard& card, std::ostream& out);

// "cpu 2, memory 8Gi, gpu 1 (a100)".
std::string FormatRequest(const v1::ResourceRequest& request);
// "queued", "running", ...
std::string JobStateText(v1::JobState state);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_PRINT_H_
