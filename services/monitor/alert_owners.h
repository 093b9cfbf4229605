#ifndef FABRIQUE_SERVICES_MONITOR_ALERT_OWNERS_H_
#define FABRIQUE_SERVICES_MONITOR_ALERT_OWNERS_H_

// The access guard's owner lookup for the monitor's calls that name an alert: an alert belongs
// to the squad owning its model, so GetAlert and AcknowledgeAlert are checked against that
// squad. Other kinds go to `models` (MonitoredModelOwners).

#include "libs/auth/method_table.h"
#include "libs/monitoring/alerts/alert_store.h"

namespace fabrique::services {

// `alerts` is not owned and must outlive the lookup; nullptr = alerts are not kept (NOT_FOUND).
// An unknown alert id is NOT_FOUND.
auth::OwnerLookup WithAlertOwners(auth::OwnerLookup models, const monitoring::AlertStore* alerts);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_ALERT_OWNERS_H_
