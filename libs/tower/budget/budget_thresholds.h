#ifndef FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_THRESHOLDS_H_
#define FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_THRESHOLDS_H_

// A monthly budget's thresholds in money, and where a spend stands against them.

#include <cstdint>

#include "absl/status/status.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

inline constexpr double kDefaultSoftPercent = 80;
inline constexpr double kDefaultHardPercent = 100;

struct Thresholds {
  int64_t monthly_micros = 0;
  int64_t soft_micros = 0;  // Spend at or above: SOFT_EXCEEDED.
  int64_t hard_micros = 0;  // Spend at or above: HARD_EXCEEDED (admissions refused).
};

// `budget`'s thresholds, 0 percentages read as their defaults.
Thresholds ThresholdsOf(const v1::Budget& budget);

// INVALID_ARGUMENT for a negative or malformed amount, or thresholds outside 0..1000% or with
// the soft one above the hard one.
absl::Status CheckBudgetValues(const v1::Budget& budget);

// Where `spent_micros` stands against `limits`; `lifted` when an approval lifts the hard one.
v1::BudgetStatus StatusOf(int64_t spent_micros, const Thresholds& limits, bool lifted);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_THRESHOLDS_H_
