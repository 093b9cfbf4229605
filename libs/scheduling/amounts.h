#ifndef FABRIQUE_LIBS_SCHEDULING_AMOUNTS_H_
#define FABRIQUE_LIBS_SCHEDULING_AMOUNTS_H_

// How the scheduler names resources and amounts in the messages people read: "cpu (default)",
// "2000m", "16Gi", "4".

#include <cstdint>
#include <string>

#include "libs/scheduling/scheduler.h"

namespace fabrique::scheduling {

// "cpu", "memory" or "gpu".
const char* ResourceName(Resource resource);
// "cpu (default)".
std::string DescribeFlavorResource(const FlavorResource& what);
// Millicores as "2000m"; bytes as "16Gi" / "512Mi" / "3Ki" when exact, else the number of bytes;
// devices as the plain count.
std::string FormatAmount(Resource resource, int64_t amount);

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_AMOUNTS_H_
