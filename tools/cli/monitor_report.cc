// `fabrique monitor report`.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitorReport(const std::vector<std::string>&) {
  std::cerr << "fabrique monitor report: not built yet\n";
  return 1;
}

}  // namespace fabrique::cli
