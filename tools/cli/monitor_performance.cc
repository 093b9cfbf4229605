// `fabrique monitor performance`.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitorPerformance(const std::vector<std::string>&) {
  std::cerr << "fabrique monitor performance: not built yet\n";
  return 1;
}

}  // namespace fabrique::cli
