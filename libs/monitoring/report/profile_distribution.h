#ifndef FABRIQUE_LIBS_MONITORING_REPORT_PROFILE_DISTRIBUTION_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_PROFILE_DISTRIBUTION_H_

// A feature's two distributions, as the report draws them, from the monitor's profile messages:
// the reference's (the training data, common.proto's DistributionProfile) and the live window's.
//
// Numeric: the reference's bins (its equal-frequency bin edges) with both sides' shares. The live
// side's shares are its bin_fractions when it was binned on those edges (a drift report's
// FeatureDrift.live is), else read from its quantile sketch at the edges. A reference profile
// without bins but with a sketch gets ten bins at its deciles.
// Categorical: the reference's categories, most frequent first, then the live window's new ones,
// and "(other)" for what either side folded away; at most `max_categories` bars.
// Unknown sides stay empty, which the page shows as "not known".

#include <cstddef>

#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

// The name of the bar that stands for the categories a summary did not keep one by one.
inline constexpr const char* kOtherCategory = "(other)";

Distribution DistributionFromProfiles(const v1::DistributionProfile& reference,
                                      const v1::DistributionProfile& live,
                                      size_t max_categories = 12);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_PROFILE_DISTRIBUTION_H_
