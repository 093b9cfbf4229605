#ifndef FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_
#define FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_

#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

// A credit-scoring model drifting since 14:00 on 3 of its 12 features, most of all `amount`,
// with accuracy and AUC over a day of hourly windows and two alerts firing. Fixed values only,
// so its page is the same on every run.
ReportModel SampleReport();

// The same model a day earlier, healthy: no feature drifted, performance at its training level.
ReportModel HealthySampleReport();

// A model just deployed: no feature checked yet, no outcome, no alert.
ReportModel EmptySampleReport();

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_
