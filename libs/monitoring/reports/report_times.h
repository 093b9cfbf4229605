#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_TIMES_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_TIMES_H_

// Times as reports carry them (protobuf Timestamps, to the microsecond) and as the monitor's
// cores reason about them (absl::Time).

#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace fabrique::monitoring {

google::protobuf::Timestamp ToProto(absl::Time time);
absl::Time TimeOf(const google::protobuf::Timestamp& timestamp);
// Sets `range` to [from, to).
void SetRange(absl::Time from, absl::Time to, v1::TimeRange* range);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_TIMES_H_
