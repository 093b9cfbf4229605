// WSJF and ROI: the formulas, the business value derived from money, and a use case without
// spend judged on its estimate so that it does not rank last by accident.

#include "libs/tower/portfolio/value_scores.h"

#include "catch2/catch.hpp"
#include "portfolio_test_util.h"

namespace fabrique::tower {
namespace {

using portfolio_test::Draft;
using portfolio_test::Euros;
using portfolio_test::Harness;

TEST_CASE("WSJF is cost of delay over job size, a size of 0 counting as 1", "[portfolio][wsjf]") {
  CHECK(Wsjf(Draft("a", "s", 5, 3, 2, 5)) == Approx(2.0));
  CHECK(Wsjf(Draft("a", "s", 8, 8, 4, 0)) == Approx(20.0));
  CHECK(Wsjf(Draft("a", "s", 1, 0, 0, 10)) == Approx(0.1));
  // No business value stated: derived from the annual value.
  v1::UseCase from_money = Draft("a", "s", 0, 2, 1, 2);
  *from_money.mutable_estimated_annual_value() = Euros(1'000'000);
  CHECK(EffectiveBusinessValue(from_money) == 5);
  CHECK(Wsjf(from_money) == Approx(4.0));  // (5 + 2 + 1) / 2
}

TEST_CASE("The business value derived from money climbs by half decades", "[portfolio][wsjf]") {
  CHECK(DerivedBusinessValue(Euros(0)) == 1);
  CHECK(DerivedBusinessValue(Euros(5'000)) == 1);
  CHECK(DerivedBusinessValue(Euros(10'000)) == 1);
  CHECK(DerivedBusinessValue(Euros(31'622)) == 1);
  CHECK(DerivedBusinessValue(Euros(31'623)) == 2);
  CHECK(DerivedBusinessValue(Euros(100'000)) == 3);
  CHECK(DerivedBusinessValue(Euros(1'000'000)) == 5);
  CHECK(DerivedBusinessValue(Euros(10'000'000)) == 7);
  CHECK(DerivedBusinessValue(Euros(100'000'000)) == 9);
  CHECK(DerivedBusinessValue(Euros(5'000'000'000)) == 10);
}

TEST_CASE("ROI uses the spend once it passes the estimate, else the estimate", "[portfolio][roi]") {
  v1::UseCase use_case = Draft("a", "s");
  *use_case.mutable_estimated_annual_value() = Euros(300'000);
  *use_case.mutable_estimated_cost() = Euros(100'000);
  CHECK(Roi(use_case, 0) == Approx(2.0));
  CHECK(Roi(use_case, 50'000'000'000) == Approx(2.0));   // 50k spent: the estimate stands.
  CHECK(Roi(use_case, 150'000'000'000) == Approx(1.0));  // 150k spent: the spend.
  CHECK(Roi(Draft("none", "s"), 0) == 0);                // Nothing to divide by.
  CHECK(ToMicros(Euros(3)) == 3'000'000);
  CHECK(FromMicros(1'500'000, "").nanos() == 500'000'000);
}

TEST_CASE("A use case with no spend yet ranks on its estimate, not last",
          "[portfolio][roi][rank]") {
  Harness h;
  // Equal WSJF, so ROI decides.
  auto create = [&](const std::string& id, int64_t value, int64_t estimate) {
    v1::UseCase draft = Draft(id, "fraud");
    *draft.mutable_estimated_annual_value() = Euros(value);
    *draft.mutable_estimated_cost() = Euros(estimate);
    h.MustCreate(draft);
  };
  create("overran", 300'000, 100'000);
  create("fresh", 300'000, 100'000);
  create("thin", 120'000, 100'000);
  h.budget.spent["overran"] = 150'000;
  h.budget.spent["thin"] = 100'000;

  CHECK(h.portfolio->GetUseCase("fresh")->roi() == Approx(2.0));
  CHECK(h.portfolio->GetUseCase("overran")->roi() == Approx(1.0));
  absl::StatusOr<v1::Portfolio> portfolio = h.portfolio->GetPortfolio({}, 0, "");
  REQUIRE(portfolio.ok());
  REQUIRE(portfolio->entries_size() == 3);
  CHECK(portfolio->entries(0).use_case().id() == "fresh");
  CHECK(portfolio->entries(1).use_case().id() == "overran");
  CHECK(portfolio->entries(2).use_case().id() == "thin");
  CHECK(portfolio->entries(0).compute_spent().units() == 0);
  CHECK(portfolio->entries(0).compute_estimate().units() == 100'000);
  CHECK(portfolio->entries(1).compute_spent().units() == 150'000);
  CHECK(portfolio->total_spent().units() == 250'000);
  CHECK(portfolio->total_estimated_value().units() == 720'000);
}

}  // namespace
}  // namespace fabrique::tower
