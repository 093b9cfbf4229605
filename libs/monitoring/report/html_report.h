#ifndef FABRIQUE_LIBS_MONITORING_REPORT_HTML_REPORT_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_HTML_REPORT_H_

// The monitor's report for business users as one self-contained HTML5 page: a summary to read
// in ten seconds, the features ranked by drift, each feature's distributions and the model's
// performance over time as inline SVG charts.
//
// The page has no script and no reference outside itself (no URL, no stylesheet link, no
// image file), so it can be mailed, archived or opened offline, and the same model always
// renders to the same bytes. Every text from the model is escaped.

#include <string>

#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

std::string RenderHtmlReport(const ReportModel& model);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_HTML_REPORT_H_
