#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_ENGINE_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_ENGINE_H_

// The monitor's report core (ReportSource): reads what a report needs (live summaries from the
// windows, the reference profile, joined outcomes from the intake, the version's training
// metrics and class labels from the registry), builds the report (drift_report.h,
// performance_report.h), stores it under a new id (report_store.h) and returns it.
//
//   ReportEngine engine(options);
//   ASSIGN_OR_RETURN(v1::DriftReport report, engine.ComputeDriftReport("fraud", 3, from, to,
//                                                                      policy));

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/reference/reference_profiles.h"
#include "libs/monitoring/reports/drift_report.h"
#include "libs/monitoring/reports/report_source.h"
#include "libs/monitoring/reports/report_store.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

struct ReportEngineOptions {
  // None is owned; all must outlive the engine. Required.
  const WindowSource* windows = nullptr;
  const IntakeStore* intake = nullptr;
  ReferenceProfiles* references = nullptr;
  ReportStore* reports = nullptr;
  // The model's task, from a cached view of the registry; TASK_UNSPECIFIED when it could not be
  // asked. Required.
  std::function<v1::Task(absl::string_view model)> task_of;
  // Whether the registry knows the version (true while it cannot be asked). Default: every
  // version is known.
  std::function<bool(absl::string_view model, int64_t version)> known;
  // Stamps compute_time. Not owned. Default: nullptr = the real clock.
  const core::Clock* clock = nullptr;
};

class ReportEngine final : public ReportSource {
 public:
  explicit ReportEngine(ReportEngineOptions options);

  // ReportSource. Errors: INVALID_ARGUMENT for from >= to (or a baseline likewise);
  // UNAVAILABLE when the registry is needed and could not be asked (the reference profile not
  // kept yet; a performance report's task or training metrics); the storage's own.
  absl::StatusOr<v1::DriftReport> ComputeDriftReport(
      absl::string_view model, int64_t version, absl::Time from, absl::Time to,
      const v1::MonitoringPolicy& policy, const v1::TimeRange* baseline = nullptr) override;
  absl::StatusOr<v1::PerformanceReport> ComputePerformanceReport(
      absl::string_view model, int64_t version, absl::Time from, absl::Time to,
      const v1::MonitoringPolicy& policy, absl::Duration bucket = absl::ZeroDuration()) override;

  // ComputeDriftReport with the choices only a caller asking by hand makes: the tests to run and
  // whether to fill the live and reference profiles.
  absl::StatusOr<v1::DriftReport> ComputeDrift(const DriftQuery& query,
                                               const v1::MonitoringPolicy& policy);

 private:
  // The training metrics and class labels of the version (see ComputePerformanceReport).
  absl::Status ReadVersionFacts(absl::string_view model, int64_t version,
                                std::vector<v1::Metric>& metrics,
                                std::vector<std::string>& class_labels);

  const ReportEngineOptions options_;
  const core::Clock* const clock_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_ENGINE_H_
