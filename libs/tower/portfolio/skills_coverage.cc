#include "libs/tower/portfolio/skills_coverage.h"

#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace fabrique::tower {
namespace {

// Allowances for floating-point sums of fractions (0.1 + 0.2 FTE must cover 0.3).
constexpr double kFteEpsilon = 1e-9;

double AllocationFte(const v1::SquadMember& member) {
  const double percent = member.allocation_percent() > 0 ? member.allocation_percent() : 100;
  return percent / 100;
}

}  // namespace

std::map<v1::Skill, double> SquadSkillFte(const v1::Squad& squad) {
  std::map<v1::Skill, double> fte;
  for (const v1::SquadMember& member : squad.members()) {
    std::set<int> skills(member.skills().begin(), member.skills().end());
    for (int skill : skills) fte[static_cast<v1::Skill>(skill)] += AllocationFte(member);
  }
  return fte;
}

std::map<v1::Skill, double> NeededFte(const v1::UseCase& use_case) {
  std::map<v1::Skill, double> needed;
  for (const v1::SkillNeed& need : use_case.skills_needed()) {
    if (need.fte() > 0) needed[need.skill()] += need.fte();
  }
  return needed;
}

std::vector<v1::SkillGap> SkillGapsOf(const v1::UseCase& use_case, const v1::Squad* squad) {
  const std::map<v1::Skill, double> available =
      squad != nullptr ? SquadSkillFte(*squad) : std::map<v1::Skill, double>();
  std::vector<v1::SkillGap> gaps;
  for (const auto& [skill, needed] : NeededFte(use_case)) {
    auto found = available.find(skill);
    const double has = found != available.end() ? found->second : 0;
    if (has + kFteEpsilon >= needed) continue;
    v1::SkillGap& gap = gaps.emplace_back();
    gap.set_skill(skill);
    gap.set_needed_fte(needed);
    gap.set_available_fte(has);
  }
  return gaps;
}

bool CountsForCapacity(v1::UseCaseStatus status) {
  return status == v1::USE_CASE_STATUS_APPROVED || status == v1::USE_CASE_STATUS_BUILDING ||
         status == v1::USE_CASE_STATUS_IN_PRODUCTION;
}

namespace {

void AddSkillShortages(const std::vector<v1::UseCase>& use_cases,
                       const std::vector<v1::Squad>& squads, v1::CapacityGaps& gaps) {
  absl::flat_hash_map<std::string, std::map<v1::Skill, double>> squad_has;
  std::map<v1::Skill, double> available;
  for (const v1::Squad& squad : squads) {
    squad_has[squad.id()] = SquadSkillFte(squad);
    for (const auto& [skill, fte] : squad_has[squad.id()]) available[skill] += fte;
  }
  // What each squad's counted use cases need together, and the factory's total.
  absl::flat_hash_map<std::string, std::map<v1::Skill, double>> squad_needs;
  std::map<v1::Skill, double> needed;
  for (const v1::UseCase& use_case : use_cases) {
    if (!CountsForCapacity(use_case.status()) || !squad_has.contains(use_case.squad())) continue;
    for (const auto& [skill, fte] : NeededFte(use_case)) {
      squad_needs[use_case.squad()][skill] += fte;
      needed[skill] += fte;
    }
  }
  std::map<v1::Skill, std::vector<std::string>> lacking;
  for (const v1::UseCase& use_case : use_cases) {
    if (!CountsForCapacity(use_case.status()) || !squad_has.contains(use_case.squad())) continue;
    const std::map<v1::Skill, double>& has = squad_has[use_case.squad()];
    for (const auto& [skill, fte] : NeededFte(use_case)) {
      auto found = has.find(skill);
      const double squad_fte = found != has.end() ? found->second : 0;
      if (squad_fte + kFteEpsilon < squad_needs[use_case.squad()][skill]) {
        lacking[skill].push_back(use_case.id());
      }
    }
  }
  for (const auto& [skill, fte] : needed) {
    const double has = available[skill];
    if (has + kFteEpsilon >= fte && lacking.count(skill) == 0) continue;
    v1::SkillShortage* shortage = gaps.add_skills_short();
    shortage->set_skill(skill);
    shortage->set_needed_fte(fte);
    shortage->set_available_fte(has);
    for (const std::string& id : lacking[skill]) shortage->add_use_cases(id);
  }
}

void AddOverAllocations(const std::vector<v1::Squad>& squads,
                        const std::vector<v1::Squad>& all_squads, v1::CapacityGaps& gaps) {
  std::set<std::string> in_scope;
  for (const v1::Squad& squad : squads) {
    for (const v1::SquadMember& member : squad.members()) in_scope.insert(member.user());
  }
  std::map<std::string, std::pair<double, std::vector<std::string>>> by_user;
  for (const v1::Squad& squad : all_squads) {
    for (const v1::SquadMember& member : squad.members()) {
      if (in_scope.count(member.user()) == 0) continue;
      auto& [percent, squad_ids] = by_user[member.user()];
      percent += AllocationFte(member) * 100;
      squad_ids.push_back(squad.id());
    }
  }
  for (const auto& [user, allocation] : by_user) {
    if (allocation.first <= 100 + kFteEpsilon) continue;
    v1::OverAllocation* over = gaps.add_over_allocated();
    over->set_user(user);
    over->set_allocation_percent(allocation.first);
    for (const std::string& squad : allocation.second) over->add_squads(squad);
  }
}

}  // namespace

v1::CapacityGaps ComputeCapacityGaps(const std::vector<v1::UseCase>& use_cases,
                                     const std::vector<v1::Squad>& squads,
                                     const std::vector<v1::Squad>& all_squads) {
  v1::CapacityGaps gaps;
  AddSkillShortages(use_cases, squads, gaps);
  AddOverAllocations(squads, all_squads, gaps);
  return gaps;
}

}  // namespace fabrique::tower
