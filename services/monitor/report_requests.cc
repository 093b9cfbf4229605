#include "services/monitor/report_requests.h"

#include "absl/strings/str_cat.h"

namespace fabrique::services {

absl::StatusOr<int64_t> ResolveVersion(const v1::ModelRef& ref, const MonitorReports& reports) {
  if (ref.selector_case() == v1::ModelRef::kVersion) {
    if (ref.version() < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("model.version must be 1 or more, not ", ref.version()));
    }
    return ref.version();
  }
  const std::string alias = ref.selector_case() == v1::ModelRef::kAlias && !ref.alias().empty()
                                ? ref.alias()
                                : std::string(kPrimaryAlias);
  absl::StatusOr<int64_t> version = reports.alias_version(ref.model(), alias);
  if (version.ok()) return version;
  if (absl::IsNotFound(version.status())) {
    return absl::NotFoundError(absl::StrCat("model '", ref.model(), "' has no alias '", alias,
                                            "': name a version or an alias it has"));
  }
  return absl::UnavailableError(absl::StrCat("the registry could not say which version alias '",
                                             alias, "' of model '", ref.model(),
                                             "' names, retry later: ", version.status().message()));
}

absl::StatusOr<ReportWindow> WindowOf(const v1::TimeRange& range,
                                      const v1::MonitoringPolicy& policy, absl::Time now) {
  ReportWindow window;
  window.to = range.has_end_time() ? TimeOf(range.end_time()) : now;
  if (range.has_start_time()) {
    window.from = TimeOf(range.start_time());
  } else {
    const absl::Duration width =
        policy.window().seconds() > 0 || policy.window().nanos() > 0
            ? absl::Seconds(policy.window().seconds()) + absl::Nanoseconds(policy.window().nanos())
            : absl::Hours(1);
    window.from = window.to - width;
  }
  if (window.from >= window.to) {
    return absl::InvalidArgumentError(
        absl::StrCat("window must end after it starts: ", absl::FormatTime(window.from),
                     " >= ", absl::FormatTime(window.to)));
  }
  return window;
}

absl::StatusOr<ReportTarget> TargetOf(const v1::ModelRef& ref, const v1::TimeRange& range,
                                      const MonitorReports& reports) {
  ReportTarget target;
  target.policy = reports.policy(ref.model());
  absl::StatusOr<int64_t> version = ResolveVersion(ref, reports);
  if (!version.ok()) return version.status();
  target.version = *version;
  const core::Clock* clock = reports.clock != nullptr ? reports.clock : core::Clock::Real();
  absl::StatusOr<ReportWindow> window = WindowOf(range, target.policy, clock->Now());
  if (!window.ok()) return window.status();
  target.window = *window;
  return target;
}

absl::StatusOr<monitoring::DriftQuery> DriftQueryOf(const v1::GetDriftReportRequest& request,
                                                    const ReportTarget& target) {
  monitoring::DriftQuery query;
  query.model = request.model().model();
  query.version = target.version;
  query.from = target.window.from;
  query.to = target.window.to;
  for (int metric : request.metrics()) query.metrics.push_back(v1::DriftMetric(metric));
  query.include_live_profiles = request.include_live_profiles();
  if (request.has_baseline_window()) {
    const v1::TimeRange& baseline = request.baseline_window();
    if (!baseline.has_start_time() || !baseline.has_end_time()) {
      return absl::InvalidArgumentError("baseline_window needs its start_time and its end_time");
    }
    query.has_baseline = true;
    query.baseline_from = TimeOf(baseline.start_time());
    query.baseline_to = TimeOf(baseline.end_time());
  }
  return query;
}

monitoring::ReportFilter FilterOf(const std::string& model, int64_t version,
                                  const v1::TimeRange& range, v1::Severity min_severity) {
  monitoring::ReportFilter filter;
  filter.model = model;
  filter.version = version;
  if (range.has_start_time()) filter.from = TimeOf(range.start_time());
  if (range.has_end_time()) filter.to = TimeOf(range.end_time());
  filter.min_severity = min_severity;
  return filter;
}

}  // namespace fabrique::services
