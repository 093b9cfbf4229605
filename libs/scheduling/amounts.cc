#include "libs/scheduling/amounts.h"

#include "absl/strings/str_cat.h"

namespace fabrique::scheduling {

const char* ResourceName(Resource resource) {
  switch (resource) {
    case Resource::kCpu:
      return "cpu";
    case Resource::kMemory:
      return "memory";
    case Resource::kGpu:
      return "gpu";
  }
  return "unknown";
}

std::string DescribeFlavorResource(const FlavorResource& what) {
  return absl::StrCat(ResourceName(what.resource), " (", what.flavor, ")");
}

std::string FormatAmount(Resource resource, int64_t amount) {
  switch (resource) {
    case Resource::kCpu:
      return absl::StrCat(amount, "m");
    case Resource::kMemory: {
      constexpr int64_t kKi = 1024;
      if (amount != 0) {
        for (auto [unit, suffix] : {std::pair<int64_t, const char*>{kKi * kKi * kKi, "Gi"},
                                    {kKi * kKi, "Mi"},
                                    {kKi, "Ki"}}) {
          if (amount % unit == 0) return absl::StrCat(amount / unit, suffix);
        }
      }
      return absl::StrCat(amount);
    }
    case Resource::kGpu:
      return absl::StrCat(amount);
  }
  return absl::StrCat(amount);
}

}  // namespace fabrique::scheduling
