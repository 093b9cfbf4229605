#include "services/tower/tower_service.h"

// The calls live in one file per area (tower_service.h lists them); this file holds what they
// share.

namespace fabrique::services {}  // namespace fabrique::services
