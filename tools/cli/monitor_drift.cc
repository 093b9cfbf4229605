// `fabrique monitor drift`.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitorDrift(const std::vector<std::string>&) {
  std::cerr << "fabrique monitor drift: not built yet\n";
  return 1;
}

}  // namespace fabrique::cli
