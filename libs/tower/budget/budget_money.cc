#include "libs/tower/budget/budget_money.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fabrique::tower {

absl::StatusOr<int64_t> MoneyToMicros(const v1::Money& money) {
  if (money.nanos() <= -1'000'000'000 || money.nanos() >= 1'000'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("money nanos ", money.nanos(), " is out of range; |nanos| < 1e9"));
  }
  if ((money.units() > 0 && money.nanos() < 0) || (money.units() < 0 && money.nanos() > 0)) {
    return absl::InvalidArgumentError("money units and nanos must have the same sign");
  }
  constexpr int64_t kMaxUnits = int64_t{9'000'000'000'000};  // Keeps micros inside int64.
  if (money.units() > kMaxUnits || money.units() < -kMaxUnits) {
    return absl::InvalidArgumentError(absl::StrCat("money units ", money.units(), " is too large"));
  }
  return money.units() * 1'000'000 + money.nanos() / 1000;
}

v1::Money MicrosToMoney(int64_t micros, const std::string& currency) {
  v1::Money money;
  money.set_currency_code(currency.empty() ? kDefaultCurrency : currency);
  money.set_units(micros / 1'000'000);
  money.set_nanos(static_cast<int32_t>((micros % 1'000'000) * 1000));
  return money;
}

std::string FormatAmount(int64_t micros) {
  const bool negative = micros < 0;
  // Rounded to cents.
  const int64_t cents = (std::llabs(micros) + 5'000) / 10'000;
  std::string units = absl::StrCat(cents / 100);
  std::string grouped;
  for (size_t i = 0; i < units.size(); ++i) {
    if (i > 0 && (units.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(units[i]);
  }
  return absl::StrFormat("%s%s.%02d", negative ? "-" : "", grouped, cents % 100);
}

std::string FormatMoney(int64_t micros, const std::string& currency) {
  return absl::StrCat(currency.empty() ? kDefaultCurrency : currency, " ", FormatAmount(micros));
}

Month MonthOf(absl::Time time) {
  const absl::CivilSecond civil = absl::ToCivilSecond(time, absl::UTCTimeZone());
  const absl::CivilMonth month(civil);
  Month out;
  out.start = absl::FromCivil(month, absl::UTCTimeZone());
  out.end = absl::FromCivil(month + 1, absl::UTCTimeZone());
  out.label = absl::StrFormat("%04d-%02d", month.year(), month.month());
  return out;
}

}  // namespace fabrique::tower
