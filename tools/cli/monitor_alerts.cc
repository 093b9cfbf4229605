// `fabrique monitor alerts`.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitorAlerts(const std::vector<std::string>&) {
  std::cerr << "fabrique monitor alerts: not built yet\n";
  return 1;
}

}  // namespace fabrique::cli
