#include "services/registry/monitor_client_port.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace fabrique::services {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

}  // namespace

MonitorClientPort::MonitorClientPort(client::MonitorClient monitor, const core::Clock* clock)
    : monitor_(std::move(monitor)), clock_(clock != nullptr ? clock : core::Clock::Real()) {}

absl::StatusOr<registry::MonitorComparisonAnswer> MonitorClientPort::Compare(
    const registry::MonitorComparisonQuery& query) const {
  v1::CompareCanaryRequest request;
  request.set_model(query.model);
  request.set_candidate_version(query.candidate_version);
  request.set_primary_version(query.primary_version);
  request.set_metric(query.gate.metric());
  request.set_max_degradation(query.gate.max_degradation());
  request.set_min_labelled(query.gate.min_labelled());
  const absl::Duration window =
      absl::Seconds(query.gate.window().seconds()) + absl::Nanoseconds(query.gate.window().nanos());
  if (window > absl::ZeroDuration()) {
    // Unset otherwise: the monitor's default window ending now.
    const absl::Time now = clock_->Now();
    *request.mutable_window()->mutable_start_time() = ToTimestamp(now - window);
    *request.mutable_window()->mutable_end_time() = ToTimestamp(now);
  }
  absl::StatusOr<v1::CanaryComparison> comparison =
      monitor_.Call(&client::MonitorClient::Stub::CompareCanary, request,
                    absl::StrCat("CompareCanary ", query.model, " ", query.candidate_version,
                                 " against ", query.primary_version));
  if (!comparison.ok()) return comparison.status();
  registry::MonitorComparisonAnswer answer;
  answer.enough_data = comparison->enough_data();
  answer.candidate_not_worse = comparison->enough_data() && comparison->candidate_not_worse();
  answer.verdict = comparison->verdict();
  answer.report_id = comparison->report_id();
  return answer;
}

}  // namespace fabrique::services
