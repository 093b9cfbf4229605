#ifndef FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_MONEY_H_
#define FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_MONEY_H_

// Money and months as the budget counts them. Amounts are held as int64 micros of the currency
// (1e-6 units: a million euros is 1e12, far from overflow) and converted to v1::Money at the edge;
// months are calendar months in UTC, labelled "2026-12".

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

inline constexpr char kDefaultCurrency[] = "EUR";

// `money` in micros; INVALID_ARGUMENT when nanos is out of range or of the other sign.
absl::StatusOr<int64_t> MoneyToMicros(const v1::Money& money);
v1::Money MicrosToMoney(int64_t micros, const std::string& currency);
// "EUR 1,020.00": the currency, then the amount with thousands separators and two decimals.
std::string FormatMoney(int64_t micros, const std::string& currency);
// "1,000.00".
std::string FormatAmount(int64_t micros);

// The UTC calendar month containing a time.
struct Month {
  absl::Time start;
  absl::Time end;     // The next month's start.
  std::string label;  // "2026-12".
};
Month MonthOf(absl::Time time);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_MONEY_H_
