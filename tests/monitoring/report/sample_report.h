#ifndef FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_
#define FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_

#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

// A credit-scoring model drifting since 14:00 on 3 of its 12 features, most of all `amount`,
// with accuracy and AUC over a day of hourly windows and two alerts firing. Fixed values only,
// so its page is the same on every run.
ReportModel SampleReport();

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_TESTS_MONITORING_REPORT_SAMPLE_REPORT_H_
