#ifndef FABRIQUE_LIBS_TOWER_JOBS_QUOTA_BOOK_H_
#define FABRIQUE_LIBS_TOWER_JOBS_QUOTA_BOOK_H_

// The squads' quotas and the cluster's declared capacity, as set through the API, in the family
// "tower_quotas". Holds them in memory too; the job queue feeds them to the scheduler and checks
// new quotas against the capacity (the design authority's check).
//
// Not thread-safe: the job queue calls it under its lock.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/kv/store.h"

namespace fabrique::tower {

inline constexpr char kQuotasFamily[] = "tower_quotas";

class QuotaBook {
 public:
  static absl::StatusOr<std::unique_ptr<QuotaBook>> Open(kv::Store* store);

  // The quota set for `squad`, or nullopt when none was.
  std::optional<v1::Quota> Find(const std::string& squad) const;
  // Every quota set, by squad.
  const std::map<std::string, v1::Quota>& all() const { return quotas_; }
  // Stores `quota` (normalised) with a new etag, durably, and returns it.
  absl::StatusOr<v1::Quota> Put(v1::Quota quota, absl::Time now);

  const v1::Capacity& capacity() const { return capacity_; }
  // INVALID_ARGUMENT for a negative amount or factor, or a flavour and resource given twice.
  absl::StatusOr<v1::Capacity> SetCapacity(v1::Capacity capacity);
  // The capacity with the sum of nominal quotas held against each flavour and resource.
  v1::Capacity CapacityWithTotals() const;
  // Why `proposed` would oversubscribe the capacity beyond its factor, e.g. "gpu (a100): quotas
  // would total 12 against a capacity of 8 x 1.25 = 10"; empty when it would not.
  std::string Oversubscription(const v1::Quota& proposed) const;

 private:
  QuotaBook(kv::Store* store, kv::ColumnFamily family) : store_(store), family_(family) {}
  // The sum of nominal quotas per (flavour, resource), with `replacing` in place of its squad's.
  std::map<std::pair<std::string, int>, int64_t> Totals(const v1::Quota* replacing) const;

  kv::Store* store_;
  kv::ColumnFamily family_;
  std::map<std::string, v1::Quota> quotas_;
  v1::Capacity capacity_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_QUOTA_BOOK_H_
