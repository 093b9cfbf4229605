// The portfolio: ranks and pages, filters, models and spend, skills coverage, the funnel's lead
// times, and the capacity gaps across the factory.

#include <string>

#include "catch2/catch.hpp"
#include "portfolio_test_util.h"

namespace fabrique::tower {
namespace {

using portfolio_test::AddMember;
using portfolio_test::Draft;
using portfolio_test::Harness;

std::vector<std::string> Ids(const v1::Portfolio& portfolio) {
  std::vector<std::string> ids;
  for (const v1::PortfolioEntry& entry : portfolio.entries()) ids.push_back(entry.use_case().id());
  return ids;
}

TEST_CASE("The portfolio ranks by WSJF, then id, with ranks kept across pages",
          "[portfolio][rank]") {
  Harness h;
  h.MustCreate(Draft("w4", "fraud", 4, 0, 0, 1));
  h.MustCreate(Draft("w8", "fraud", 8, 0, 0, 1));
  h.MustCreate(Draft("w2", "churn", 2, 0, 0, 1));
  h.MustCreate(Draft("w6", "pricing", 6, 0, 0, 1));
  h.MustCreate(Draft("w6b", "fraud", 6, 0, 0, 1));

  absl::StatusOr<v1::Portfolio> page = h.portfolio->GetPortfolio({}, 2, "");
  REQUIRE(page.ok());
  CHECK(page->total_use_cases() == 5);
  CHECK(Ids(*page) == std::vector<std::string>{"w8", "w6"});
  CHECK(page->entries(0).rank() == 1);
  CHECK(page->entries(1).rank() == 2);
  REQUIRE_FALSE(page->next_page_token().empty());
  const std::string second_token = page->next_page_token();

  page = h.portfolio->GetPortfolio({}, 2, second_token);
  REQUIRE(page.ok());
  CHECK(Ids(*page) == std::vector<std::string>{"w6b", "w4"});
  CHECK(page->entries(0).rank() == 3);
  CHECK(page->entries(1).rank() == 4);

  // A use case ranked above the page boundary, added between pages, neither repeats an entry
  // nor hides one: the page resumes after the last entry served, ranks counted afresh.
  h.MustCreate(Draft("w10", "churn", 10, 0, 0, 1));
  page = h.portfolio->GetPortfolio({}, 2, second_token);
  REQUIRE(page.ok());
  CHECK(Ids(*page) == std::vector<std::string>{"w6b", "w4"});
  CHECK(page->entries(0).rank() == 4);
  page = h.portfolio->GetPortfolio({}, 2, page->next_page_token());
  REQUIRE(page.ok());
  CHECK(Ids(*page) == std::vector<std::string>{"w2"});
  CHECK(page->entries(0).rank() == 6);
  CHECK(page->next_page_token().empty());
  CHECK(absl::IsInvalidArgument(h.portfolio->GetPortfolio({}, 2, "not-a-token").status()));
}

TEST_CASE("The portfolio filters by entity, squad and statuses", "[portfolio][filter]") {
  Harness h;
  h.MustCreate(Draft("a", "fraud"));
  h.MustCreate(Draft("b", "churn"));
  h.MustCreate(Draft("c", "pricing"));
  h.Advance("a", v1::USE_CASE_STATUS_BUILDING);

  UseCaseFilter filter;
  filter.entity = "bank";
  CHECK(h.portfolio->GetPortfolio(filter, 0, "")->total_use_cases() == 2);
  filter.squad = "churn";
  CHECK(Ids(*h.portfolio->GetPortfolio(filter, 0, "")) == std::vector<std::string>{"b"});
  filter = {};
  filter.statuses = {v1::USE_CASE_STATUS_BUILDING, v1::USE_CASE_STATUS_IN_PRODUCTION};
  absl::StatusOr<v1::Portfolio> building = h.portfolio->GetPortfolio(filter, 0, "");
  REQUIRE(building.ok());
  CHECK(Ids(*building) == std::vector<std::string>{"a"});
  // The funnel ignores the status filter, so every stage shows its count.
  REQUIRE(building->funnel_size() == 6);
  CHECK(building->funnel(0).status() == v1::USE_CASE_STATUS_IDEA);
  CHECK(building->funnel(0).count() == 2);
  CHECK(building->funnel(3).count() == 1);
  filter = {};
  filter.visible = [](absl::string_view squad) { return squad != "fraud"; };
  CHECK(h.portfolio->GetPortfolio(filter, 0, "")->total_use_cases() == 2);
}

TEST_CASE("Entries show models in production and whether the squad covers the skills",
          "[portfolio][skills]") {
  Harness h;
  v1::Squad& fraud = h.org.squads["fraud"];
  AddMember(fraud, "alice", {v1::SKILL_DATA_SCIENCE}, 50);
  AddMember(fraud, "bob", {v1::SKILL_DATA_SCIENCE, v1::SKILL_DATA_ENGINEERING}, 0);  // 100%.
  v1::UseCase draft = Draft("card-fraud", "fraud");
  for (auto [skill, fte] :
       {std::pair{v1::SKILL_DATA_SCIENCE, 1.5}, std::pair{v1::SKILL_DATA_ENGINEERING, 1.5},
        std::pair{v1::SKILL_MLOPS, 0.5}}) {
    v1::SkillNeed* need = draft.add_skills_needed();
    need->set_skill(skill);
    need->set_fte(fte);
  }
  h.MustCreate(draft);
  v1::PortfolioModel model;
  model.set_model("fraud-gbm");
  model.set_production_version(3);
  h.registry.models["card-fraud"] = {model};
  h.MustCreate(Draft("easy", "fraud"));

  absl::StatusOr<v1::Portfolio> portfolio = h.portfolio->GetPortfolio({}, 0, "");
  REQUIRE(portfolio.ok());
  const v1::PortfolioEntry& entry = portfolio->entries(0);
  REQUIRE(entry.use_case().id() == "card-fraud");
  REQUIRE(entry.models_size() == 1);
  CHECK(entry.models(0).production_version() == 3);
  CHECK_FALSE(entry.skills_covered());
  REQUIRE(entry.skill_gaps_size() == 2);
  CHECK(entry.skill_gaps(0).skill() == v1::SKILL_DATA_ENGINEERING);
  CHECK(entry.skill_gaps(0).needed_fte() == 1.5);
  CHECK(entry.skill_gaps(0).available_fte() == 1.0);
  CHECK(entry.skill_gaps(1).skill() == v1::SKILL_MLOPS);
  CHECK(entry.skill_gaps(1).available_fte() == 0);
  CHECK(portfolio->entries(1).skills_covered());  // Needs nothing.
}

TEST_CASE("The funnel's median lead times come from the histories", "[portfolio][funnel]") {
  Harness h;
  // Three ideas qualified after 1, 3 and 2 hours: IDEA's median is 2 hours.
  for (const char* id : {"a", "b", "c"}) h.MustCreate(Draft(id, "fraud"));
  h.clock.Advance(absl::Hours(1));
  REQUIRE(h.Move("a", v1::USE_CASE_STATUS_QUALIFIED).ok());
  h.clock.Advance(absl::Hours(1));
  REQUIRE(h.Move("c", v1::USE_CASE_STATUS_QUALIFIED).ok());
  h.clock.Advance(absl::Hours(1));
  REQUIRE(h.Move("b", v1::USE_CASE_STATUS_QUALIFIED).ok());
  // "a" sat 2 hours in QUALIFIED, then 5 hours in APPROVED awaiting the build.
  REQUIRE(h.Move("a", v1::USE_CASE_STATUS_APPROVED).ok());
  REQUIRE(h.portfolio->Apply(h.approvals.Decided(0, "dora", true)).ok());
  h.clock.Advance(absl::Hours(5));
  REQUIRE(h.Move("a", v1::USE_CASE_STATUS_BUILDING).ok());

  absl::StatusOr<v1::Portfolio> portfolio = h.portfolio->GetPortfolio({}, 0, "");
  REQUIRE(portfolio.ok());
  auto stage = [&](int index) { return portfolio->funnel(index); };
  CHECK(FromProtoDuration(stage(0).median_lead_time()) == absl::Hours(2));
  CHECK(stage(0).count() == 0);
  CHECK(FromProtoDuration(stage(1).median_lead_time()) == absl::Hours(2));
  CHECK(stage(1).count() == 2);
  CHECK(FromProtoDuration(stage(2).median_lead_time()) == absl::Hours(5));
  CHECK(stage(3).count() == 1);
  CHECK(FromProtoDuration(stage(3).median_lead_time()) == absl::ZeroDuration());
}

TEST_CASE("Capacity gaps: skills short for funded use cases and people over-allocated",
          "[portfolio][capacity]") {
  Harness h;
  AddMember(h.org.squads["fraud"], "alice", {v1::SKILL_DATA_SCIENCE}, 50);
  AddMember(h.org.squads["churn"], "alice", {v1::SKILL_DATA_SCIENCE}, 80);
  AddMember(h.org.squads["churn"], "carl", {v1::SKILL_MLOPS}, 100);
  AddMember(h.org.squads["pricing"], "erin", {v1::SKILL_DATA_SCIENCE}, 100);
  auto needing = [](const std::string& id, const std::string& squad, v1::Skill skill, double fte) {
    v1::UseCase draft = Draft(id, squad);
    v1::SkillNeed* need = draft.add_skills_needed();
    need->set_skill(skill);
    need->set_fte(fte);
    return draft;
  };
  h.MustCreate(needing("fraud-ds", "fraud", v1::SKILL_DATA_SCIENCE, 1.0));
  h.MustCreate(needing("churn-ds", "churn", v1::SKILL_DATA_SCIENCE, 0.5));
  h.MustCreate(needing("idea-only", "churn", v1::SKILL_MLOPS, 5));  // Not funded: not counted.
  h.MustCreate(needing("pricing-ds", "pricing", v1::SKILL_DATA_SCIENCE, 0.5));
  for (const char* id : {"fraud-ds", "churn-ds", "pricing-ds"}) {
    h.Advance(id, v1::USE_CASE_STATUS_APPROVED);
  }

  absl::StatusOr<v1::CapacityGaps> gaps = h.portfolio->GetCapacityGaps("");
  REQUIRE(gaps.ok());
  // 2.0 FTE needed, 2.3 available: enough in total, but the fraud squad lacks it.
  REQUIRE(gaps->skills_short_size() == 1);
  const v1::SkillShortage& short_ds = gaps->skills_short(0);
  CHECK(short_ds.skill() == v1::SKILL_DATA_SCIENCE);
  CHECK(short_ds.needed_fte() == Approx(2.0));
  CHECK(short_ds.available_fte() == Approx(2.3));
  CHECK(std::vector<std::string>(short_ds.use_cases().begin(), short_ds.use_cases().end()) ==
        std::vector<std::string>{"fraud-ds"});
  REQUIRE(gaps->over_allocated_size() == 1);
  CHECK(gaps->over_allocated(0).user() == "alice");
  CHECK(gaps->over_allocated(0).allocation_percent() == Approx(130));
  CHECK(gaps->over_allocated(0).squads_size() == 2);

  // One entity: the insurer has no gap; alice is not in it.
  gaps = h.portfolio->GetCapacityGaps("insurer");
  REQUIRE(gaps.ok());
  CHECK(gaps->skills_short_size() == 0);
  CHECK(gaps->over_allocated_size() == 0);
}

}  // namespace
}  // namespace fabrique::tower
