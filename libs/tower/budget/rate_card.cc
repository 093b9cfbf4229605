#include "libs/tower/budget/rate_card.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/tower/budget/budget_money.h"

namespace fabrique::tower {
namespace {

void AddRate(v1::RateCard& card, v1::UsageKind kind, int32_t nanos) {
  v1::Rate* rate = card.add_rates();
  rate->set_kind(kind);
  rate->mutable_price()->set_currency_code(card.currency_code());
  rate->mutable_price()->set_nanos(nanos);
}

// The price of one unit, in units of the currency (nanos kept: a memory GiB-second costs less
// than a micro).
long double UnitPrice(const v1::Money& price) {
  return static_cast<long double>(price.units()) + static_cast<long double>(price.nanos()) / 1e9L;
}

}  // namespace

v1::RateCard DefaultRateCard() {
  v1::RateCard card;
  card.set_currency_code(kDefaultCurrency);
  AddRate(card, v1::USAGE_KIND_CPU_SECONDS, 10'000);
  AddRate(card, v1::USAGE_KIND_GPU_SECONDS, 800'000);
  AddRate(card, v1::USAGE_KIND_MEMORY_GIB_SECONDS, 1'000);
  AddRate(card, v1::USAGE_KIND_PREDICTIONS, 10'000);
  AddRate(card, v1::USAGE_KIND_STORAGE_GIB_HOURS, 30'000);
  return card;
}

absl::Status ValidateRateCard(const v1::RateCard& card) {
  const std::string currency =
      card.currency_code().empty() ? kDefaultCurrency : card.currency_code();
  std::set<int> seen;
  for (const v1::Rate& rate : card.rates()) {
    const std::string name = v1::UsageKind_Name(rate.kind());
    if (rate.kind() == v1::USAGE_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError("a rate has no kind; name the resource it prices");
    }
    if (!seen.insert(rate.kind()).second) {
      return absl::InvalidArgumentError(absl::StrCat(name, " is priced twice; keep one rate"));
    }
    if (rate.price().units() < 0 || rate.price().nanos() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("the price of ", name, " is negative"));
    }
    if (absl::StatusOr<int64_t> micros = MoneyToMicros(rate.price()); !micros.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the price of ", name, ": ", micros.status().message()));
    }
    if (!rate.price().currency_code().empty() && rate.price().currency_code() != currency) {
      return absl::InvalidArgumentError(
          absl::StrCat("the price of ", name, " is in ", rate.price().currency_code(),
                       " and the card in ", currency, "; one currency per card"));
    }
  }
  return absl::OkStatus();
}

int64_t CostOf(const v1::RateCard& card,
               const google::protobuf::RepeatedPtrField<v1::UsageItem>& items) {
  long double total = 0;
  for (const v1::UsageItem& item : items) {
    for (const v1::Rate& rate : card.rates()) {
      if (rate.kind() == item.kind()) total += item.quantity() * UnitPrice(rate.price());
    }
  }
  return static_cast<int64_t>(std::llround(total * 1e6L));
}

google::protobuf::RepeatedPtrField<v1::UsageItem> ItemsOf(const v1::ResourceUsage& usage) {
  google::protobuf::RepeatedPtrField<v1::UsageItem> items;
  const std::pair<v1::UsageKind, double> amounts[] = {
      {v1::USAGE_KIND_CPU_SECONDS, usage.cpu_seconds()},
      {v1::USAGE_KIND_GPU_SECONDS, usage.gpu_seconds()},
      {v1::USAGE_KIND_MEMORY_GIB_SECONDS, usage.memory_gib_seconds()}};
  for (const auto& [kind, quantity] : amounts) {
    if (quantity == 0) continue;
    v1::UsageItem* item = items.Add();
    item->set_kind(kind);
    item->set_quantity(quantity);
  }
  return items;
}

}  // namespace fabrique::tower
