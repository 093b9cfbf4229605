#include "libs/tower/portfolio/value_scores.h"

#include <algorithm>
#include <cmath>

namespace fabrique::tower {

int64_t ToMicros(const v1::Money& money) {
  return money.units() * 1'000'000 + money.nanos() / 1000;
}

v1::Money FromMicros(int64_t micros, const std::string& currency) {
  v1::Money money;
  money.set_currency_code(currency.empty() ? kDefaultCurrency : currency);
  money.set_units(micros / 1'000'000);
  money.set_nanos(static_cast<int32_t>((micros % 1'000'000) * 1000));
  return money;
}

int32_t DerivedBusinessValue(const v1::Money& annual_value) {
  const double units = static_cast<double>(ToMicros(annual_value)) / 1e6;
  if (units <= 0) return 1;
  // Half decades above 10,000: each step is a factor of sqrt(10).
  const double steps = std::floor(2 * std::log10(units / 10'000.0));
  return static_cast<int32_t>(std::clamp(1.0 + steps, 1.0, 10.0));
}

int32_t EffectiveBusinessValue(const v1::UseCase& use_case) {
  if (use_case.business_value() > 0) return use_case.business_value();
  return DerivedBusinessValue(use_case.estimated_annual_value());
}

double Wsjf(const v1::UseCase& use_case) {
  const double cost_of_delay =
      EffectiveBusinessValue(use_case) + use_case.time_criticality() + use_case.risk_reduction();
  const int32_t job_size = use_case.job_size() > 0 ? use_case.job_size() : 1;
  return cost_of_delay / job_size;
}

double Roi(const v1::UseCase& use_case, int64_t spent_micros) {
  const int64_t cost = std::max(spent_micros, ToMicros(use_case.estimated_cost()));
  if (cost <= 0) return 0;
  const int64_t value = ToMicros(use_case.estimated_annual_value());
  return static_cast<double>(value - cost) / static_cast<double>(cost);
}

}  // namespace fabrique::tower
