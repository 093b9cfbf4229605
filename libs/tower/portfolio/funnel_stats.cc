#include "libs/tower/portfolio/funnel_stats.h"

#include <algorithm>
#include <map>

#include "libs/tower/portfolio/funnel.h"
#include "libs/tower/portfolio/proto_time.h"

namespace fabrique::tower {

absl::Duration MedianDuration(std::vector<absl::Duration> durations) {
  if (durations.empty()) return absl::ZeroDuration();
  std::sort(durations.begin(), durations.end());
  const size_t middle = durations.size() / 2;
  if (durations.size() % 2 == 1) return durations[middle];
  return (durations[middle - 1] + durations[middle]) / 2;
}

std::vector<v1::FunnelStage> FunnelStages(const std::vector<v1::UseCase>& use_cases) {
  std::map<v1::UseCaseStatus, int32_t> counts;
  std::map<v1::UseCaseStatus, std::vector<absl::Duration>> stays;
  for (const v1::UseCase& use_case : use_cases) {
    ++counts[use_case.status()];
    const auto& history = use_case.history();
    for (int i = 0; i + 1 < history.size(); ++i) {
      stays[history[i].to()].push_back(FromProtoTime(history[i + 1].time()) -
                                       FromProtoTime(history[i].time()));
    }
  }
  std::vector<v1::FunnelStage> stages;
  for (v1::UseCaseStatus status : FunnelOrder()) {
    v1::FunnelStage& stage = stages.emplace_back();
    stage.set_status(status);
    stage.set_count(counts[status]);
    *stage.mutable_median_lead_time() = ToProtoDuration(MedianDuration(stays[status]));
  }
  return stages;
}

}  // namespace fabrique::tower
