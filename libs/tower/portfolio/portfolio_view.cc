// The portfolio as demand management reads it: GetPortfolio (ranked, paged, with models, spend,
// skills and the funnel) and GetCapacityGaps.

#include <algorithm>
#include <utility>

#include "libs/core/status_macros.h"
#include "libs/tower/paging.h"
#include "libs/tower/portfolio/funnel_stats.h"
#include "libs/tower/portfolio/portfolio.h"
#include "libs/tower/portfolio/portfolio_paging.h"
#include "libs/tower/portfolio/skills_coverage.h"
#include "libs/tower/portfolio/value_scores.h"

namespace fabrique::tower {
namespace {

struct Ranked {
  v1::UseCase use_case;
  int64_t spent_micros = 0;
  RankKey key;
};

std::string CurrencyOf(const std::vector<Ranked>& ranked) {
  for (const Ranked& entry : ranked) {
    const std::string& currency = entry.use_case.estimated_annual_value().currency_code();
    if (!currency.empty()) return currency;
  }
  return kDefaultCurrency;
}

}  // namespace

absl::StatusOr<v1::PortfolioEntry> Portfolio::EntryOf(
    const v1::UseCase& use_case, int32_t rank, int64_t spent_micros,
    absl::flat_hash_map<std::string, std::unique_ptr<v1::Squad>>& squads) {
  v1::PortfolioEntry entry;
  *entry.mutable_use_case() = use_case;
  entry.set_rank(rank);
  if (options_.registry != nullptr) {
    ASSIGN_OR_RETURN(std::vector<v1::PortfolioModel> models,
                     options_.registry->ModelsOf(use_case.id()));
    for (v1::PortfolioModel& model : models) *entry.add_models() = std::move(model);
  } else {
    for (const std::string& model : use_case.models()) entry.add_models()->set_model(model);
  }
  const std::string& currency = use_case.estimated_cost().currency_code();
  *entry.mutable_compute_spent() = FromMicros(spent_micros, currency);
  *entry.mutable_compute_estimate() = FromMicros(ToMicros(use_case.estimated_cost()), currency);
  // Squads are looked up once per page; an unknown one gives nothing.
  auto [found, inserted] = squads.try_emplace(use_case.squad());
  if (inserted && options_.org != nullptr) {
    absl::StatusOr<v1::Squad> squad = options_.org->GetSquad(use_case.squad());
    if (squad.ok()) {
      found->second = std::make_unique<v1::Squad>(*std::move(squad));
    } else if (!absl::IsNotFound(squad.status())) {
      return squad.status();
    }
  }
  for (v1::SkillGap& gap : SkillGapsOf(use_case, found->second.get())) {
    *entry.add_skill_gaps() = std::move(gap);
  }
  entry.set_skills_covered(entry.skill_gaps().empty());
  return entry;
}

absl::StatusOr<v1::Portfolio> Portfolio::GetPortfolio(const UseCaseFilter& filter,
                                                      int32_t page_size,
                                                      absl::string_view page_token) {
  ASSIGN_OR_RETURN(int32_t size, PageSize(page_size));
  ASSIGN_OR_RETURN(std::optional<RankKey> after, DecodeRankToken(page_token));
  ASSIGN_OR_RETURN(std::vector<v1::UseCase> all, storage_->AllUseCases());
  std::vector<v1::UseCase> in_scope;
  std::vector<Ranked> ranked;
  for (v1::UseCase& use_case : all) {
    if (!InScope(filter, use_case)) continue;
    if (filter.statuses.empty() || std::find(filter.statuses.begin(), filter.statuses.end(),
                                             use_case.status()) != filter.statuses.end()) {
      Ranked& entry = ranked.emplace_back();
      ASSIGN_OR_RETURN(entry.spent_micros, SpentMicros(use_case.id()));
      use_case.set_wsjf(Wsjf(use_case));
      use_case.set_roi(Roi(use_case, entry.spent_micros));
      entry.key = RankKey{use_case.wsjf(), use_case.roi(), use_case.id()};
      entry.use_case = use_case;
    }
    in_scope.push_back(std::move(use_case));
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const Ranked& a, const Ranked& b) { return RanksBefore(a.key, b.key); });

  v1::Portfolio portfolio;
  portfolio.set_total_use_cases(static_cast<int32_t>(ranked.size()));
  int64_t value = 0;
  int64_t spent = 0;
  for (const Ranked& entry : ranked) {
    value += ToMicros(entry.use_case.estimated_annual_value());
    spent += entry.spent_micros;
  }
  const std::string currency = CurrencyOf(ranked);
  *portfolio.mutable_total_estimated_value() = FromMicros(value, currency);
  *portfolio.mutable_total_spent() = FromMicros(spent, currency);
  for (v1::FunnelStage& stage : FunnelStages(in_scope)) {
    *portfolio.add_funnel() = std::move(stage);
  }

  // The page starts after the token's key, wherever that key ranks now.
  size_t begin = 0;
  if (after.has_value()) {
    begin =
        std::partition_point(ranked.begin(), ranked.end(),
                             [&](const Ranked& entry) { return !RanksBefore(*after, entry.key); }) -
        ranked.begin();
  }
  const size_t end = std::min(ranked.size(), begin + static_cast<size_t>(size));
  absl::flat_hash_map<std::string, std::unique_ptr<v1::Squad>> squads;
  for (size_t i = begin; i < end; ++i) {
    ASSIGN_OR_RETURN(
        v1::PortfolioEntry entry,
        EntryOf(ranked[i].use_case, static_cast<int32_t>(i + 1), ranked[i].spent_micros, squads));
    *portfolio.add_entries() = std::move(entry);
  }
  if (end < ranked.size()) portfolio.set_next_page_token(EncodeRankToken(ranked[end - 1].key));
  return portfolio;
}

absl::StatusOr<v1::CapacityGaps> Portfolio::GetCapacityGaps(absl::string_view entity) {
  if (options_.org == nullptr) {
    return absl::FailedPreconditionError(
        "capacity gaps need the organisation's squads and members, which this tower does not "
        "hold");
  }
  ASSIGN_OR_RETURN(std::vector<v1::Squad> squads, options_.org->ListSquads(entity));
  std::vector<v1::Squad> all_squads;
  if (entity.empty()) {
    all_squads = squads;
  } else {
    ASSIGN_OR_RETURN(all_squads, options_.org->ListSquads(""));
  }
  ASSIGN_OR_RETURN(std::vector<v1::UseCase> use_cases, storage_->AllUseCases());
  return ComputeCapacityGaps(use_cases, squads, all_squads);
}

}  // namespace fabrique::tower
