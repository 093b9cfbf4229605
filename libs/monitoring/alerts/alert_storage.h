#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORAGE_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORAGE_H_

// The RocksDB store under DATA_DIR/alerts that policies, alerts and the retrain trigger's state
// share: small, rarely written, fsynced, so that a restart resumes exactly where it stopped.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/kv/store.h"

namespace fabrique::monitoring {

inline constexpr char kPoliciesFamily[] = "policies";
inline constexpr char kAlertsFamily[] = "alerts";
inline constexpr char kOpenAlertsFamily[] = "open_alerts";
inline constexpr char kRetrainFamily[] = "retrain";

// Opens (or creates) the store at `dir` with the families above. Errors are kv::Store::Open's.
absl::StatusOr<std::unique_ptr<kv::Store>> OpenAlertStorage(const std::string& dir);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_STORAGE_H_
