// `fabrique monitor policy`.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitorPolicy(const std::vector<std::string>&) {
  std::cerr << "fabrique monitor policy: not built yet\n";
  return 1;
}

}  // namespace fabrique::cli
