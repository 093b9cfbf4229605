// `fabrique tower quota set | show | list` and `quota capacity set | show`: squads' quotas by
// resource flavour (Kueue's ClusterQueues), their cohorts with borrowing and lending limits, and
// the cluster's declared capacity the design authority holds them against.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

void PrintQuotaOut(const v1::Quota& quota) { PrintQuota(quota, std::cout); }

void AddResourceFlags(core::FlagSet* flags, QuotaFlags* quota, const std::string& what) {
  flags->Add("cpu", &quota->cpu, absl::StrCat("CPU ", what, ": cores (4) or millicores (500m)"));
  flags->Add("memory", &quota->memory, absl::StrCat("Memory ", what, ": 8Gi, 512Mi, 1G"));
  flags->Add("gpu", &quota->gpu, absl::StrCat("GPUs ", what, ", in devices"));
  flags->Add("flavor", &quota->flavor, "The resource flavour these apply to, e.g. a100");
}

int QuotaSet(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  QuotaFlags quota_flags;
  std::string cohort = "\x01", preempt, etag;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower quota set",
      "Sets a squad's nominal quotas in one flavour, its cohort and its limits. The quota in "
      "force is read first: resources and flavours not named stay as they are. A quota that "
      "would oversubscribe the declared capacity beyond its factor waits for a quota-increase "
      "approval (its id is printed); one below current usage is accepted, naming the running "
      "jobs over it, and nothing new is admitted until usage is back under.");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog(
      "Example:\n"
      "  fabrique tower quota set risk --cpu 4 --memory 8Gi --gpu 1 --flavor default \\\n"
      "      --cohort retail --borrowing_limit cpu=2 --lending_limit memory=4Gi\n"
      "Limits are RESOURCE=QUANTITY, one per resource; 'cpu=none' removes one.\n");
  AddTowerFlags(&flags, &connection);
  AddResourceFlags(&flags, &quota_flags, "quota");
  flags.Add("cohort", &cohort, "The cohort it lends to and borrows from ('' = none)");
  flags.Add("borrowing_limit", &quota_flags.borrowing_limits,
            "How much more than nominal it may borrow, e.g. cpu=2 (repeatable)");
  flags.Add("lending_limit", &quota_flags.lending_limits,
            "How much of its nominal quota the cohort may borrow, e.g. memory=4Gi (repeatable)");
  flags.Add("preempt_within_squad", &preempt,
            "true: its higher-priority jobs may preempt its lower ones; false: never");
  flags.Add("etag", &etag, "The quota's etag as read; empty = the one just read");
  flags.Add("json", &json, "Print the answer as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD", &parsed)) return *code;
  if (!preempt.empty() && preempt != "true" && preempt != "false") {
    return BadUsage(flags, "--preempt_within_squad is true or false");
  }
  if (!quota_flags.any() && cohort == "\x01" && preempt.empty()) {
    return BadUsage(flags, "nothing to set: give --cpu, --memory, --gpu, --cohort or limits");
  }
  if (absl::Status checked = CheckQuotaFlags(quota_flags); !checked.ok()) {
    return BadUsage(flags, checked.message());
  }
  const std::string& squad = parsed.positional[0];
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  v1::SetQuotaRequest request;
  v1::GetQuotaRequest get;
  get.set_squad(squad);
  absl::StatusOr<v1::Quota> current =
      tower->CallIdempotent(&TowerStub::GetQuota, get, "GetQuota " + squad);
  if (current.ok()) {
    *request.mutable_quota() = *current;
    request.set_etag(current->etag());
  } else if (current.status().code() != absl::StatusCode::kNotFound) {
    return Fail(flags.program(), current.status());
  }
  v1::Quota* quota = request.mutable_quota();
  quota->set_squad(squad);
  // Output-only fields go back as the tower sent them; it ignores them.
  if (absl::Status applied = ApplyQuotaFlags(quota_flags, quota); !applied.ok()) {
    return BadUsage(flags, applied.message());
  }
  if (cohort != "\x01") quota->set_cohort(cohort);
  if (!preempt.empty()) quota->set_preempt_within_squad(preempt == "true");
  if (!etag.empty()) request.set_etag(etag);
  absl::StatusOr<v1::SetQuotaResponse> answer =
      tower->Call(&TowerStub::SetQuota, request, "SetQuota " + squad);
  if (!answer.ok()) return Fail(flags.program(), answer.status());
  if (json) {
    PrintJson(*answer);
    return 0;
  }
  if (answer->has_approval()) {
    std::cout << "the quota of " << squad << " waits for approval " << answer->approval().id()
              << (answer->note().empty() ? "" : absl::StrCat(": ", answer->note()))
              << "\napproval: " << answer->approval().id() << "\nin force meanwhile:\n";
  } else if (!answer->note().empty()) {
    std::cout << answer->note() << "\n";
  }
  PrintQuota(answer->quota(), std::cout);
  return 0;
}

int QuotaShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower quota show",
                      "Shows a squad's quotas by flavour and resource: nominal, used, borrowed "
                      "from and lent to its cohort, the limits, and running jobs over quota.");
  flags.set_usage_args("[flags] SQUAD");
  flags.set_epilog("Example:\n  fabrique tower quota show risk\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the quota as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SQUAD", &parsed)) return *code;
  v1::GetQuotaRequest request;
  request.set_squad(parsed.positional[0]);
  return CallTower<v1::GetQuotaRequest, v1::Quota>(
      flags.program(), connection, &TowerStub::GetQuota, request, "GetQuota " + request.squad(),
      true, json, PrintQuotaOut);
}

int QuotaList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string cohort;
  bool json = false;
  core::FlagSet flags("fabrique tower quota list", "Lists every squad's quotas, by cohort.");
  flags.set_epilog("Example:\n  fabrique tower quota list --cohort retail\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("cohort", &cohort, "Only squads of this cohort");
  flags.Add("json", &json, "Print the quotas as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  v1::ListQuotasRequest request;
  request.set_cohort(cohort);
  return CallTower<v1::ListQuotasRequest, v1::ListQuotasResponse>(
      flags.program(), connection, &TowerStub::ListQuotas, request, "ListQuotas", true, json,
      [](const v1::ListQuotasResponse& all) { PrintQuotas(all, std::cout); });
}

int CapacitySet(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  QuotaFlags amounts;
  double factor = -1;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower quota capacity set",
      "Declares the cluster's capacity in one flavour, and the factor by which nominal quotas "
      "may oversubscribe it; a quota beyond it needs a quota-increase approval. The capacity in "
      "force is read first: resources and flavours not named stay.");
  flags.set_epilog(
      "Example:\n  fabrique tower quota capacity set --cpu 64 --memory 256Gi --gpu 8 "
      "--factor 1.5\n");
  AddTowerFlags(&flags, &connection);
  AddResourceFlags(&flags, &amounts, "capacity");
  flags.Add("factor", &factor, "Nominal quotas may sum to this multiple of the capacity (>= 1)");
  flags.Add("json", &json, "Print the capacity as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  if (factor != -1 && factor < 1) return BadUsage(flags, "--factor must be 1 or more");
  if (!amounts.any() && factor == -1) {
    return BadUsage(flags, "nothing to set: give --cpu, --memory, --gpu or --factor");
  }
  if (absl::Status checked = CheckQuotaFlags(amounts); !checked.ok()) {
    return BadUsage(flags, checked.message());
  }
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  absl::StatusOr<v1::Capacity> current =
      tower->CallIdempotent(&TowerStub::GetCapacity, v1::GetCapacityRequest(), "GetCapacity");
  if (!current.ok()) return Fail(flags.program(), current.status());
  // The capacity as a quota, to merge amounts the way quotas are merged.
  v1::Quota as_quota;
  as_quota.set_squad("the cluster");
  for (const v1::FlavorCapacity& f : current->flavors()) {
    v1::ResourceQuota* r = as_quota.add_resources();
    r->set_flavor(f.flavor());
    r->set_resource(f.resource());
    r->set_nominal(f.amount());
  }
  if (absl::Status applied = ApplyQuotaFlags(amounts, &as_quota); !applied.ok()) {
    return BadUsage(flags, applied.message());
  }
  v1::SetCapacityRequest request;
  v1::Capacity* capacity = request.mutable_capacity();
  capacity->set_oversubscription_factor(factor == -1 ? current->oversubscription_factor() : factor);
  for (const v1::ResourceQuota& r : as_quota.resources()) {
    v1::FlavorCapacity* f = capacity->add_flavors();
    f->set_flavor(r.flavor());
    f->set_resource(r.resource());
    f->set_amount(r.nominal());
  }
  absl::StatusOr<v1::Capacity> set = tower->Call(&TowerStub::SetCapacity, request, "SetCapacity");
  if (!set.ok()) return Fail(flags.program(), set.status());
  return ShowAnswer<v1::Capacity>(
      *set, json, [](const v1::Capacity& capacity) { PrintCapacity(capacity, std::cout); });
}

int CapacityShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower quota capacity show",
                      "Shows the declared capacity per flavour with the quotas held against it.");
  flags.set_epilog("Example:\n  fabrique tower quota capacity show\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the capacity as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  return CallTower<v1::GetCapacityRequest, v1::Capacity>(
      flags.program(), connection, &TowerStub::GetCapacity, v1::GetCapacityRequest(), "GetCapacity",
      true, json, [](const v1::Capacity& capacity) { PrintCapacity(capacity, std::cout); });
}

int QuotaCapacity(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"set", "set [--cpu --memory --gpu --flavor --factor]", "Declare the cluster's capacity",
       CapacitySet},
      {"show", "show", "Show the capacity and the quotas held against it", CapacityShow},
  };
  return RunSubcommand("fabrique tower quota capacity",
                       "The cluster's declared capacity per flavour, which the design "
                       "authority holds the squads' quotas against.",
                       kSubcommands, args);
}

}  // namespace

int RunTowerQuota(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"set", "set SQUAD [--cpu --memory --gpu --flavor --cohort --borrowing_limit ...]",
       "Set a squad's quotas, cohort and limits", QuotaSet},
      {"show", "show SQUAD", "Show a squad's quotas and usage", QuotaShow},
      {"list", "list [--cohort C]", "List every squad's quotas", QuotaList},
      {"capacity", "capacity set|show", "The cluster's declared capacity", QuotaCapacity},
  };
  return RunSubcommand("fabrique tower quota",
                       "Each squad has nominal quotas of CPU, memory and GPU per resource "
                       "flavour; squads in a cohort lend each other unused quota within limits.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
