#ifndef FABRIQUE_LIBS_TOWER_BUDGET_RATE_CARD_H_
#define FABRIQUE_LIBS_TOWER_BUDGET_RATE_CARD_H_

// The price of each metered resource. Until one is set, the tower prices in EUR, at list prices
// of a public cloud rounded for readability:
//   cpu-second          EUR 0.00001     (EUR 0.036 per core-hour)
//   gpu-second          EUR 0.0008      (EUR 2.88 per GPU-hour)
//   memory GiB-second   EUR 0.000001    (EUR 0.0036 per GiB-hour)
//   prediction          EUR 0.00001     (EUR 0.01 per thousand)
//   storage GiB-hour    EUR 0.00003     (about EUR 0.02 per GiB-month)
// A kind the card does not list is free.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

v1::RateCard DefaultRateCard();

// INVALID_ARGUMENT naming the rate: no kind, a kind twice, a negative price, or a rate in another
// currency than the card's.
absl::Status ValidateRateCard(const v1::RateCard& card);

// What `items` cost at `card`, in micros of its currency, rounded to the micro.
int64_t CostOf(const v1::RateCard& card,
               const google::protobuf::RepeatedPtrField<v1::UsageItem>& items);

// The items a job's usage amounts to (cpu, gpu and memory seconds).
google::protobuf::RepeatedPtrField<v1::UsageItem> ItemsOf(const v1::ResourceUsage& usage);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_BUDGET_RATE_CARD_H_
