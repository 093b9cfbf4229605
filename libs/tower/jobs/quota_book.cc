#include "libs/tower/jobs/quota_book.h"

#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {
namespace {

constexpr char kQuotaTag[] = "q";
constexpr char kCapacityKey[] = "capacity";

std::string QuotaKey(absl::string_view squad) {
  return kv::KeyBuilder().AddString(kQuotaTag).AddString(squad).key();
}

double Factor(const v1::Capacity& capacity) {
  return capacity.oversubscription_factor() > 0 ? capacity.oversubscription_factor() : 1.0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<QuotaBook>> QuotaBook::Open(kv::Store* store) {
  if (store == nullptr) return absl::InvalidArgumentError("the quota book needs a kv store");
  ASSIGN_OR_RETURN(kv::ColumnFamily family, store->Family(kQuotasFamily));
  std::unique_ptr<QuotaBook> book(new QuotaBook(store, family));
  absl::Status parse_error;
  RETURN_IF_ERROR(
      store->Scan(family, kv::KeyRange::Prefix(kv::KeyBuilder().AddString(kQuotaTag).key()),
                  [&](absl::string_view, absl::string_view value) {
                    absl::StatusOr<v1::Quota> quota = core::ParseStored<v1::Quota>(value, "quota");
                    if (!quota.ok()) {
                      parse_error = quota.status();
                      return false;
                    }
                    book->quotas_[quota->squad()] = *std::move(quota);
                    return true;
                  }));
  RETURN_IF_ERROR(parse_error);
  absl::StatusOr<std::string> capacity = store->Get(family, kCapacityKey);
  if (capacity.ok()) {
    ASSIGN_OR_RETURN(book->capacity_, core::ParseStored<v1::Capacity>(*capacity, "capacity"));
  } else if (!absl::IsNotFound(capacity.status())) {
    return capacity.status();
  }
  return book;
}

std::optional<v1::Quota> QuotaBook::Find(const std::string& squad) const {
  auto it = quotas_.find(squad);
  if (it == quotas_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<v1::Quota> QuotaBook::Put(v1::Quota quota, absl::Time now) {
  RETURN_IF_ERROR(NormaliseQuota(quota));
  quota.set_etag(absl::StrCat(absl::ToUnixMicros(now), "-", quotas_.size()));
  RETURN_IF_ERROR(store_->Put(family_, QuotaKey(quota.squad()), quota.SerializeAsString(),
                              kv::SyncMode::kSync));
  quotas_[quota.squad()] = quota;
  return quota;
}

absl::StatusOr<v1::Capacity> QuotaBook::SetCapacity(v1::Capacity capacity) {
  if (capacity.oversubscription_factor() < 0 ||
      !std::isfinite(capacity.oversubscription_factor())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "oversubscription_factor must be >= 0 (0 = 1), not ", capacity.oversubscription_factor()));
  }
  std::set<std::pair<std::string, int>> seen;
  for (v1::FlavorCapacity& flavor : *capacity.mutable_flavors()) {
    flavor.set_flavor(FlavorOrDefault(flavor.flavor()));
    flavor.clear_quota_total();
    const std::string what =
        absl::StrCat(ResourceName(flavor.resource()), " (", flavor.flavor(), ")");
    if (flavor.resource() == v1::RESOURCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("capacity of flavour ", flavor.flavor(),
                                                     " has no resource; say cpu, memory or gpu"));
    }
    if (flavor.amount() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("capacity of ", what, " is negative"));
    }
    if (!seen.insert({flavor.flavor(), flavor.resource()}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("capacity of ", what, " is given twice; give each once"));
    }
  }
  RETURN_IF_ERROR(
      store_->Put(family_, kCapacityKey, capacity.SerializeAsString(), kv::SyncMode::kSync));
  capacity_ = capacity;
  return CapacityWithTotals();
}

std::map<std::pair<std::string, int>, int64_t> QuotaBook::Totals(const v1::Quota* replacing) const {
  std::map<std::pair<std::string, int>, int64_t> totals;
  auto add = [&totals](const v1::Quota& quota) {
    for (const v1::ResourceQuota& resource : quota.resources()) {
      totals[{FlavorOrDefault(resource.flavor()), resource.resource()}] += resource.nominal();
    }
  };
  for (const auto& [squad, quota] : quotas_) {
    if (replacing == nullptr || squad != replacing->squad()) add(quota);
  }
  if (replacing != nullptr) add(*replacing);
  return totals;
}

v1::Capacity QuotaBook::CapacityWithTotals() const {
  v1::Capacity capacity = capacity_;
  const auto totals = Totals(nullptr);
  for (v1::FlavorCapacity& flavor : *capacity.mutable_flavors()) {
    auto it = totals.find({flavor.flavor(), flavor.resource()});
    flavor.set_quota_total(it == totals.end() ? 0 : it->second);
  }
  return capacity;
}

std::string QuotaBook::Oversubscription(const v1::Quota& proposed) const {
  const auto totals = Totals(&proposed);
  const double factor = Factor(capacity_);
  std::vector<std::string> over;
  for (const v1::FlavorCapacity& flavor : capacity_.flavors()) {
    auto it = totals.find({flavor.flavor(), flavor.resource()});
    if (it == totals.end()) continue;
    const double allowed = static_cast<double>(flavor.amount()) * factor;
    if (static_cast<double>(it->second) > allowed) {
      over.push_back(absl::StrCat(ResourceName(flavor.resource()), " (", flavor.flavor(),
                                  "): quotas would total ", it->second, " against a capacity of ",
                                  flavor.amount(), " x ", factor, " = ", allowed));
    }
  }
  return absl::StrJoin(over, "; ");
}

}  // namespace fabrique::tower
