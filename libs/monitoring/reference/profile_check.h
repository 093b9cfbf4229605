#ifndef FABRIQUE_LIBS_MONITORING_REFERENCE_PROFILE_CHECK_H_
#define FABRIQUE_LIBS_MONITORING_REFERENCE_PROFILE_CHECK_H_

// What a reference profile must hold before the monitor keeps it: the version it describes, and
// for every column (feature, prediction, label) a name and a summary that reads back (a quantile
// sketch that parses, bins that make sense, counts that are not negative). A profile that fails
// here would fail every drift report of its version later, so it is refused when it arrives.

#include "absl/status/status.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::monitoring {

// OK, or INVALID_ARGUMENT naming the first field that is wrong. With `needs_version` false the
// model_version may be unset (a profile read from a version's artifact gets it from the version).
absl::Status CheckProfile(const v1::ReferenceProfile& profile, bool needs_version = true);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REFERENCE_PROFILE_CHECK_H_
