// Performance over time: one chart per metric, each beside the figure measured at training.

#include "absl/strings/str_cat.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"

namespace fabrique::monitoring::report {

std::string RenderPerformance(const ReportModel& model) {
  std::string html = "<section class=\"performance\"><h2>Performance over time</h2>";
  if (model.performance.empty()) {
    absl::StrAppend(&html,
                    "<p class=\"empty\">No outcomes have been reported yet, so performance "
                    "cannot be measured.</p></section>");
    return html;
  }
  for (const MetricSeries& series : model.performance) {
    int64_t labelled = 0;
    for (const PerformancePoint& p : series.points) labelled += p.labelled_count;
    std::string subtitle =
        absl::StrCat(series.points.size(), " windows, ", labelled, " labelled predictions");
    if (series.training_value.has_value()) {
      absl::StrAppend(&subtitle, "; ", FormatNumber(*series.training_value), " at training");
    }
    absl::StrAppend(&subtitle,
                    series.higher_is_better ? "; higher is better" : "; lower is better");
    absl::StrAppend(&html, "<article class=\"card\"><header><h3>", HtmlEscape(series.metric),
                    "</h3></header><p class=\"subtitle\">", HtmlEscape(subtitle), "</p>",
                    RenderSeriesSvg(series), "</article>");
  }
  absl::StrAppend(&html, "</section>");
  return html;
}

}  // namespace fabrique::monitoring::report
