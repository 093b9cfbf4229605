#include "libs/monitoring/reports/report_times.h"

#include "google/protobuf/util/time_util.h"

namespace fabrique::monitoring {

google::protobuf::Timestamp ToProto(absl::Time time) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

void SetRange(absl::Time from, absl::Time to, v1::TimeRange* range) {
  *range->mutable_start_time() = ToProto(from);
  *range->mutable_end_time() = ToProto(to);
}

}  // namespace fabrique::monitoring
