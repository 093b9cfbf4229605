#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_PROTO_TIME_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_PROTO_TIME_H_

// absl time <-> the protobuf well-known types, as the portfolio stores histories and lead times.

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace fabrique::tower {

inline google::protobuf::Timestamp ToProtoTime(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

inline absl::Time FromProtoTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(time));
}

inline google::protobuf::Duration ToProtoDuration(absl::Duration duration) {
  return google::protobuf::util::TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(duration));
}

inline absl::Duration FromProtoDuration(const google::protobuf::Duration& duration) {
  return absl::Nanoseconds(google::protobuf::util::TimeUtil::DurationToNanoseconds(duration));
}

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_PROTO_TIME_H_
