#include "libs/monitoring/report/html_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"

namespace fabrique::monitoring::report {
namespace {

std::string Masthead(const ReportModel& model) {
  std::string versions = model.versions.empty()
                             ? std::string("no version served")
                             : absl::StrCat(model.versions.size() == 1 ? "version " : "versions ",
                                            absl::StrJoin(model.versions, ", "));
  return absl::StrCat("<header class=\"masthead\"><div class=\"product\">Fabrique monitor</div>",
                      "<div class=\"model\">", HtmlEscape(model.model), "</div>",
                      "<div class=\"meta\">", HtmlEscape(versions), " \xC2\xB7 ",
                      HtmlEscape(FormatUtcTime(model.period_from)), " to ",
                      HtmlEscape(FormatUtcTime(model.period_to)), "</div></header>");
}

}  // namespace

std::string RenderHtmlReport(const ReportModel& model) {
  const std::string title = absl::StrCat(model.model, ": ", HealthLabel(model.health));
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", "<title>",
      HtmlEscape(title), "</title><style>", ReportStyle(), "</style></head>\n<body>", "<main>",
      Masthead(model), RenderSummary(model), RenderAlerts(model), RenderFeatureTable(model),
      RenderPerformance(model), RenderFeatureDetails(model), "<footer>Generated ",
      HtmlEscape(FormatUtcTime(model.generated_at)),
      " by the Fabrique monitor. Drift tests and thresholds follow Evidently's defaults.",
      "</footer></main></body></html>\n");
}

}  // namespace fabrique::monitoring::report
