#include "libs/tower/budget/budget_thresholds.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/tower/budget/budget_money.h"

namespace fabrique::tower {
namespace {

double Percent(double percent, double fallback) { return percent == 0 ? fallback : percent; }

int64_t Share(int64_t micros, double percent) {
  return static_cast<int64_t>(std::llround(static_cast<long double>(micros) * percent / 100.0L));
}

}  // namespace

Thresholds ThresholdsOf(const v1::Budget& budget) {
  Thresholds limits;
  limits.monthly_micros = MoneyToMicros(budget.monthly()).value_or(0);
  limits.soft_micros =
      Share(limits.monthly_micros, Percent(budget.soft_threshold_percent(), kDefaultSoftPercent));
  limits.hard_micros =
      Share(limits.monthly_micros, Percent(budget.hard_threshold_percent(), kDefaultHardPercent));
  return limits;
}

absl::Status CheckBudgetValues(const v1::Budget& budget) {
  absl::StatusOr<int64_t> monthly = MoneyToMicros(budget.monthly());
  if (!monthly.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("budget.monthly: ", monthly.status().message()));
  }
  if (*monthly < 0) return absl::InvalidArgumentError("budget.monthly is negative");
  const double soft = Percent(budget.soft_threshold_percent(), kDefaultSoftPercent);
  const double hard = Percent(budget.hard_threshold_percent(), kDefaultHardPercent);
  for (double percent : {soft, hard}) {
    if (!(percent > 0 && percent <= 1000)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a threshold of ", percent, "% is out of range; thresholds are percents in (0, 1000]"));
    }
  }
  if (soft > hard) {
    return absl::InvalidArgumentError(
        absl::StrCat("the soft threshold (", soft, "%) is above the hard one (", hard, "%)"));
  }
  return absl::OkStatus();
}

v1::BudgetStatus StatusOf(int64_t spent_micros, const Thresholds& limits, bool lifted) {
  // A zero budget is exceeded by any spend, and by none.
  if (spent_micros >= limits.hard_micros && (spent_micros > 0 || limits.hard_micros > 0)) {
    return lifted ? v1::BUDGET_STATUS_LIFTED : v1::BUDGET_STATUS_HARD_EXCEEDED;
  }
  if (spent_micros >= limits.soft_micros && (spent_micros > 0 || limits.soft_micros > 0)) {
    return v1::BUDGET_STATUS_SOFT_EXCEEDED;
  }
  return v1::BUDGET_STATUS_OK;
}

}  // namespace fabrique::tower
