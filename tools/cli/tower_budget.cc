// `fabrique tower budget report | set | rates set|show | usage record`: monthly budgets of
// entities, squads and use cases with soft and hard thresholds, the rate card that prices
// metered usage, usage recorded outside the job queue, and the showback report.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

// "predictions=1000" -> {USAGE_KIND_PREDICTIONS, 1000}; `flag` names the flag in errors.
absl::StatusOr<std::pair<v1::UsageKind, std::string>> KindAndValue(absl::string_view flag,
                                                                   const std::string& text) {
  if (text.find('=') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " '", text,
                                                   "': give KIND=VALUE, KIND one of ",
                                                   EnumChoices(v1::UsageKind_descriptor())));
  }
  const std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('=', 1));
  ASSIGN_OR_RETURN(v1::UsageKind kind,
                   ParseTowerEnum<v1::UsageKind>(v1::UsageKind_descriptor(), flag, parts.first));
  return std::make_pair(kind, parts.second);
}

int BudgetReport(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string month, entity, squad, use_case;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower budget report",
      "Shows spend against budget for a month, by entity, squad and use case (showback): the "
      "budget, what was spent, the forecast for the month at its rate so far, the share used, "
      "whether a soft or hard threshold is passed (or lifted by an approval), and the jobs.");
  flags.set_epilog("Example:\n  fabrique tower budget report --month 2026-12 --entity retail\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("month", &month, "The month, YYYY-MM; default the current month (UTC)");
  flags.Add("entity", &entity, "Only this entity");
  flags.Add("squad", &squad, "Only this squad");
  flags.Add("use_case", &use_case, "Only this use case");
  flags.Add("json", &json, "Print the report as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  v1::GetBudgetReportRequest request;
  if (!month.empty()) {
    absl::StatusOr<google::protobuf::Timestamp> start = ParseMonth("month", month);
    if (!start.ok()) return BadUsage(flags, start.status().message());
    *request.mutable_month() = *start;
  }
  request.set_entity(entity);
  request.set_squad(squad);
  request.set_use_case_id(use_case);
  return CallTower<v1::GetBudgetReportRequest, v1::BudgetReport>(
      flags.program(), connection, &TowerStub::GetBudgetReport, request, "GetBudgetReport", true,
      json, [](const v1::BudgetReport& report) { PrintBudgetReport(report, std::cout); });
}

int BudgetSet(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string monthly;
  double soft = 0, hard = 0;
  core::FlagSet flags(
      "fabrique tower budget set",
      "Sets the monthly budget of an entity, squad or use case, with its thresholds: past the "
      "soft one an alert is raised; past the hard one new admissions are refused "
      "(RESOURCE_EXHAUSTED) unless a budget-overrun approval lifts it.");
  flags.set_usage_args("[flags] entity|squad|use-case ID");
  flags.set_epilog(
      "Example:\n  fabrique tower budget set squad risk --monthly '5000 EUR' --soft 80 --hard "
      "100\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("monthly", &monthly, "The monthly budget, e.g. '5000 EUR' (required)");
  flags.Add("soft", &soft, "Percent at which an alert is raised; 0 = 80");
  flags.Add("hard", &hard, "Percent at which admissions are refused; 0 = 100");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "SCOPE ID", &parsed)) return *code;
  absl::StatusOr<v1::BudgetScope> scope =
      ParseTowerEnum<v1::BudgetScope>(v1::BudgetScope_descriptor(), "scope", parsed.positional[0]);
  if (!scope.ok()) return BadUsage(flags, scope.status().message());
  if (monthly.empty()) return BadUsage(flags, "--monthly is required");
  absl::StatusOr<v1::Money> money = ParseMoney("monthly", monthly);
  if (!money.ok()) return BadUsage(flags, money.status().message());
  if (soft < 0 || hard < 0 || (soft > 0 && hard > 0 && soft > hard)) {
    return BadUsage(flags, "--soft and --hard are percents, the soft one at most the hard one");
  }
  v1::SetBudgetRequest request;
  v1::Budget* budget = request.mutable_budget();
  budget->set_scope(*scope);
  budget->set_id(parsed.positional[1]);
  *budget->mutable_monthly() = *money;
  budget->set_soft_threshold_percent(soft);
  budget->set_hard_threshold_percent(hard);
  return CallTower<v1::SetBudgetRequest, v1::Budget>(
      flags.program(), connection, &TowerStub::SetBudget, request,
      absl::StrCat("SetBudget ", parsed.positional[0], " ", parsed.positional[1]), true, true);
}

int RatesSet(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string currency;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower budget rates set",
      absl::StrCat("Sets the price of one unit of metered resources, as KIND=PRICE (kinds: ",
                   EnumChoices(v1::UsageKind_descriptor()),
                   "). The rate card in force is read first: kinds not named keep their price."));
  flags.set_usage_args("[flags] KIND=PRICE...");
  flags.set_epilog(
      "Example:\n  fabrique tower budget rates set cpu-seconds=0.00001 gpu-seconds=0.0008 "
      "predictions=0.000002\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("currency", &currency, "Currency of every price; default the card's, else EUR");
  flags.Add("json", &json, "Print the rate card as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 99, "KIND=PRICE...", &parsed)) return *code;
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  absl::StatusOr<v1::RateCard> current =
      tower->CallIdempotent(&TowerStub::GetRateCard, v1::GetRateCardRequest(), "GetRateCard");
  if (!current.ok() && current.status().code() != absl::StatusCode::kNotFound) {
    return Fail(flags.program(), current.status());
  }
  v1::SetRateCardRequest request;
  v1::RateCard* card = request.mutable_rate_card();
  if (current.ok()) *card = *current;
  card->clear_update_time();
  if (!currency.empty()) card->set_currency_code(currency);
  if (card->currency_code().empty()) card->set_currency_code("EUR");
  for (const std::string& item : parsed.positional) {
    absl::StatusOr<std::pair<v1::UsageKind, std::string>> rate = KindAndValue("rate", item);
    if (!rate.ok()) return BadUsage(flags, rate.status().message());
    absl::StatusOr<v1::Money> price = ParseMoney("rate", rate->second, card->currency_code());
    if (!price.ok()) return BadUsage(flags, price.status().message());
    v1::Rate* slot = nullptr;
    for (v1::Rate& existing : *card->mutable_rates()) {
      if (existing.kind() == rate->first) slot = &existing;
    }
    if (slot == nullptr) slot = card->add_rates();
    slot->set_kind(rate->first);
    *slot->mutable_price() = *price;
  }
  for (v1::Rate& rate : *card->mutable_rates()) {
    rate.mutable_price()->set_currency_code(card->currency_code());
  }
  absl::StatusOr<v1::RateCard> set = tower->Call(&TowerStub::SetRateCard, request, "SetRateCard");
  if (!set.ok()) return Fail(flags.program(), set.status());
  return ShowAnswer<v1::RateCard>(*set, json,
                                  [](const v1::RateCard& card) { PrintRateCard(card, std::cout); });
}

int RatesShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower budget rates show",
                      "Shows the rate card: the price of one unit of each metered resource.");
  flags.set_epilog("Example:\n  fabrique tower budget rates show\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the rate card as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  return CallTower<v1::GetRateCardRequest, v1::RateCard>(
      flags.program(), connection, &TowerStub::GetRateCard, v1::GetRateCardRequest(), "GetRateCard",
      true, json, [](const v1::RateCard& card) { PrintRateCard(card, std::cout); });
}

int Rates(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"set", "set KIND=PRICE... [--currency C]", "Set prices", RatesSet},
      {"show", "show", "Show the rate card", RatesShow},
  };
  return RunSubcommand("fabrique tower budget rates",
                       "The rate card: what one CPU-second, GPU-second, GiB-second of memory, "
                       "prediction or GiB-hour of storage costs.",
                       kSubcommands, args);
}

int UsageRecord(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string use_case, squad, time, source, request_id;
  std::vector<std::string> items;
  core::FlagSet flags(
      "fabrique tower budget usage record",
      "Records usage incurred outside the job queue (predictions served, storage) against a "
      "use case; prints what it cost at the rate card. Idempotent by --request_id: recording "
      "again with the same id adds nothing (printed as a duplicate).");
  flags.set_epilog(
      "Example:\n  fabrique tower budget usage record --use_case fraud-scoring "
      "--item predictions=120000 --item storage-gib-hours=48 --request_id inference-2026-12-01\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("use_case", &use_case, "The use case it is charged to (required)");
  flags.Add("squad", &squad, "The squad; default the use case's");
  flags.Add("item", &items, "KIND=QUANTITY, e.g. predictions=1000 (repeatable, required)");
  flags.Add("time", &time, "When it was incurred: RFC 3339 or a duration ago (-2h); default now");
  flags.Add("source", &source, "Who reports it, e.g. fabrique-inference/pod-3");
  flags.Add("request_id", &request_id, "Idempotency key; default a new one (printed)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  if (use_case.empty()) return BadUsage(flags, "--use_case is required");
  if (items.empty()) return BadUsage(flags, "give at least one --item KIND=QUANTITY");
  v1::RecordUsageRequest request;
  request.set_use_case_id(use_case);
  request.set_squad(squad);
  request.set_source(source);
  for (const std::string& text : items) {
    absl::StatusOr<std::pair<v1::UsageKind, std::string>> item = KindAndValue("item", text);
    if (!item.ok()) return BadUsage(flags, item.status().message());
    double quantity = 0;
    if (!absl::SimpleAtod(item->second, &quantity) || quantity < 0) {
      return BadUsage(flags, absl::StrCat("--item '", text, "': the quantity is a number >= 0"));
    }
    v1::UsageItem* usage = request.add_items();
    usage->set_kind(item->first);
    usage->set_quantity(quantity);
  }
  if (!time.empty()) {
    absl::StatusOr<absl::Time> when = ParseMonitorTime("time", time, absl::Now());
    if (!when.ok()) return BadUsage(flags, when.status().message());
    *request.mutable_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*when));
  }
  request.set_request_id(request_id.empty() ? core::IdGenerator::Default().Next() : request_id);
  return CallTower<v1::RecordUsageRequest, v1::RecordUsageResponse>(
      flags.program(), connection, &TowerStub::RecordUsage, request, "RecordUsage", true, false,
      [&request](const v1::RecordUsageResponse& answer) {
        std::cout << (answer.duplicate() ? "already recorded" : "recorded") << " as "
                  << request.request_id() << ": " << FormatMoney(answer.cost()) << "\n";
      });
}

int Usage(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"record", "record --use_case U --item KIND=QUANTITY...", "Record usage", UsageRecord},
  };
  return RunSubcommand("fabrique tower budget usage",
                       "Usage incurred outside the job queue, such as predictions and storage.",
                       kSubcommands, args);
}

}  // namespace

int RunTowerBudget(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"report", "report [--month YYYY-MM --entity --squad --use_case]",
       "Spend against budget with the month's forecast (showback)", BudgetReport},
      {"set", "set SCOPE ID --monthly M [--soft P --hard P]", "Set a monthly budget", BudgetSet},
      {"rates", "rates set|show", "The rate card", Rates},
      {"usage", "usage record", "Record usage outside the job queue", Usage},
  };
  return RunSubcommand("fabrique tower budget",
                       "Usage is metered from jobs (CPU, GPU and memory seconds) and recorded "
                       "by services, priced by the rate card, and held against monthly budgets "
                       "of entities, squads and use cases.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
