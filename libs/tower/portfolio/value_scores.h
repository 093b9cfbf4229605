#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_VALUE_SCORES_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_VALUE_SCORES_H_

// The numbers demand management ranks use cases by, and the money they are computed from.
//
// WSJF (SAFe's weighted shortest job first) = cost of delay / job size, where cost of delay =
// business value + time criticality + risk reduction, each on a 1..10 scale. A job size of 0
// counts as 1. A business value of 0 is derived from the estimated annual value
// (DerivedBusinessValue), so a use case that only states its value in money still ranks.
//
// ROI = (estimated annual value - cost) / cost, where cost = max(spent so far, estimated cost):
// a use case that has spent nothing yet is judged on its estimate, so it never ranks last by
// accident, and one that overran its estimate is judged on what it really cost.

#include <cstdint>
#include <string>

#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

inline constexpr char kDefaultCurrency[] = "EUR";

// Money as whole micros of its currency (1e-6 units), the tower's internal unit.
int64_t ToMicros(const v1::Money& money);
v1::Money FromMicros(int64_t micros, const std::string& currency);

// Business value on 1..10 from an annual value in its currency's units, by half decades from
// 10,000: below 31,623 -> 1, 100,000 -> 3, 1,000,000 -> 5, 10,000,000 -> 7, 100,000,000 -> 9,
// 316,227,766 and more -> 10. No value (0 or less) -> 1.
int32_t DerivedBusinessValue(const v1::Money& annual_value);

// The business value WSJF uses: the stated one, else the derived one.
int32_t EffectiveBusinessValue(const v1::UseCase& use_case);

double Wsjf(const v1::UseCase& use_case);

// ROI with `spent` (micros) as the spend so far. 0 when neither a spend nor an estimate is known:
// nothing to divide by, and no reason to rank it above or below the others.
double Roi(const v1::UseCase& use_case, int64_t spent_micros);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_VALUE_SCORES_H_
