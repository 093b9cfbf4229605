#ifndef FABRIQUE_LIBS_MONITORING_REPORT_RENDER_PARTS_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_RENDER_PARTS_H_

// The pieces of the report page, each rendered on its own so each can be read and tested
// alone. Every function returns HTML with all of the model's text escaped.

#include <string>

#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

// Returns the summary a product owner reads first, as plain (unescaped) text: "Healthy: no
// feature drifted in the last 24 h", "Drifting since 14:00: 3 of 12 features, most of all
// “amount” (Wasserstein 0.34 > 0.1)", ...
std::string SummaryHeadline(const ReportModel& model);

// Returns the coloured banner: the health, the headline, the monitor's reason, key figures.
std::string RenderSummary(const ReportModel& model);

// Returns the alerts firing, most severe first; empty when none fires.
std::string RenderAlerts(const ReportModel& model);

// Returns the table of features, most severe first, each row linking to its details.
std::string RenderFeatureTable(const ReportModel& model);

// Returns each feature's details: its verdict and its two distributions as a chart.
std::string RenderFeatureDetails(const ReportModel& model);

// Returns the reference and current distributions of a feature as an inline SVG chart:
// overlaid histograms for numbers, paired bars for categories.
std::string RenderDistributionSvg(const FeatureReport& feature);

// Returns a metric over time as an inline SVG line chart, the training figure dashed.
std::string RenderSeriesSvg(const MetricSeries& series);

// Returns the performance section: one chart per metric.
std::string RenderPerformance(const ReportModel& model);

// Returns the page's style sheet (the contents of its <style> element).
const char* ReportStyle();

// Returns the anchor of the feature at `index` in the model ("feature-3").
std::string FeatureAnchor(size_t index);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_RENDER_PARTS_H_
