#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_STORE_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_STORE_H_

// The monitoring policies: one per model, plus the platform's default (model ""), which applies
// to models without their own; with neither, the built-in policy (policy_validation.h). Policies
// are validated when set, so the evaluation never meets an impossible one.
//
//   ASSIGN_OR_RETURN(auto policies, PolicyStore::Create({store.get(), clock}));
//   ASSIGN_OR_RETURN(v1::MonitoringPolicy set, policies->Set(policy, caller.principal));
//   ASSIGN_OR_RETURN(v1::MonitoringPolicy in_force, policies->Get("fraud"));

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"

namespace fabrique::monitoring {

struct PolicyStoreOptions {
  // Opened by OpenAlertStorage (alert_storage.h). Not owned; required.
  kv::Store* store = nullptr;
  // Stamps update_time. Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
};

struct PolicyPage {
  std::vector<v1::MonitoringPolicy> policies;
  std::string next_page_token;  // "" on the last page.
};

class PolicyStore {
 public:
  // INVALID_ARGUMENT without a store; NOT_FOUND when it lacks the policies family.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Create(PolicyStoreOptions options);

  // Validates `policy` (INVALID_ARGUMENT naming the field), stamps update_time and updated_by,
  // and stores it in place of the model's previous one. Returns it as stored.
  absl::StatusOr<v1::MonitoringPolicy> Set(v1::MonitoringPolicy policy, const v1::Principal& by);
  // The policy in force for `model`: its own, else the default (model ""), else the built-in.
  absl::StatusOr<v1::MonitoringPolicy> Get(absl::string_view model) const;
  // `model`'s own policy ("" = the default), or NOT_FOUND.
  absl::StatusOr<v1::MonitoringPolicy> GetOwn(absl::string_view model) const;
  // Stored policies by model name (the default first); `page_token` from the previous page.
  absl::StatusOr<PolicyPage> List(int32_t page_size, absl::string_view page_token) const;
  // Removes `model`'s own policy, so the default applies again; NOT_FOUND when it has none.
  absl::Status Delete(absl::string_view model);

 private:
  PolicyStore(kv::Store* store, kv::ColumnFamily family, core::Clock* clock)
      : store_(store), family_(family), clock_(clock) {}

  kv::Store* const store_;
  const kv::ColumnFamily family_;
  core::Clock* const clock_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_STORE_H_
