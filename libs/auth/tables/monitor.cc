// fabrique.v1.Monitor. Reports, profiles and policies belong to the squad owning their model.
// Prediction records come from inference servers for every model (platform-wide); outcomes name
// predictions, so they need outcomes.log in some squad and the monitor keeps each to models of
// those squads. The default monitoring policy (model "") is the platform's.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& MonitorMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"LogPredictions", Platform("predictions.log")},
      {"LogOutcomes", InAnySquad("outcomes.log")},
      {"PutReferenceProfile", OwnerOf("models.write", kModel, "profile.model_version.model")},
      {"GetReferenceProfile", OwnerOf("models.read", kModel, "model_version.model")},
      {"GetDriftReport", OwnerOf("monitoring.read", kModel, "model.model")},
      {"ListDriftReports", OwnerOf("monitoring.read", kModel, "model")},
      {"GetPerformanceReport", OwnerOf("monitoring.read", kModel, "model.model")},
      {"ListPerformanceReports", OwnerOf("monitoring.read", kModel, "model")},
      {"CompareCanary", OwnerOf("monitoring.read", kModel, "model")},
      {"ListAlerts", InAnySquad("monitoring.read")},
      {"GetAlert", OwnerOf("monitoring.read", kAlert, "id")},
      {"AcknowledgeAlert", OwnerOf("alerts.acknowledge", kAlert, "id")},
      {"SetMonitoringPolicy", OwnerOrPlatform("monitoring.policy.write", kModel, "policy.model")},
      {"GetMonitoringPolicy", OwnerOrPlatform("monitoring.read", kModel, "model")},
      {"ListMonitoringPolicies", InAnySquad("monitoring.read")},
      {"DeleteMonitoringPolicy", OwnerOrPlatform("monitoring.policy.write", kModel, "model")},
  };
  return *table;
}

}  // namespace fabrique::auth
