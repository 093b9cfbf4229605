// A metric over time: one point per back-testing window, joined by a line, with the figure
// measured at training as a dashed line so "worse than promised" is visible at a glance.

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"
#include "libs/monitoring/report/svg_chart.h"

namespace fabrique::monitoring::report {
namespace {

// At most this many time labels under the x axis; more would overlap.
constexpr size_t kMaxTimeLabels = 5;

std::string TimeLabel(absl::Time time) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  return absl::StrCat(absl::ToCivilDay(time, utc).day(), absl::FormatTime(" %b %H:%M", time, utc));
}

std::string PointTitle(const MetricSeries& series, const PerformancePoint& point) {
  return absl::StrCat(FormatUtcTime(point.window_start), ": ", series.metric, " ",
                      FormatNumber(point.value), " on ", point.labelled_count, " labelled");
}

}  // namespace

std::string RenderSeriesSvg(const MetricSeries& series) {
  std::vector<PerformancePoint> points;
  for (const PerformancePoint& p : series.points) {
    if (std::isfinite(p.value)) points.push_back(p);
  }
  if (points.empty()) {
    return absl::StrCat("<p class=\"empty\">No labelled predictions yet for ",
                        HtmlEscape(series.metric), ".</p>");
  }
  const bool training = series.training_value.has_value() && std::isfinite(*series.training_value);
  double low = points.front().value;
  double high = low;
  for (const PerformancePoint& p : points) {
    low = std::min(low, p.value);
    high = std::max(high, p.value);
  }
  if (training) {
    low = std::min(low, *series.training_value);
    high = std::max(high, *series.training_value);
  }
  ChartFrame frame;
  const std::vector<double> ticks = NiceTicks(low, high, 4);
  std::vector<std::string> labels;
  for (double tick : ticks) labels.push_back(FormatNumber(tick));
  const LinearScale y{ticks.front(), ticks.back(), frame.Bottom(), frame.top};
  const double start = absl::ToUnixSeconds(points.front().window_start);
  const double end = absl::ToUnixSeconds(points.back().window_start);
  const double inset = 12;  // keeps the first and last points off the axes
  const LinearScale x{start, end, frame.left + inset, frame.width - frame.right - inset};

  std::string svg = SvgOpen(frame, absl::StrCat(series.metric, " over time"));
  absl::StrAppend(&svg, YAxis(frame, y, ticks, labels, series.metric),
                  XAxis(frame, "window start (UTC)"));
  std::vector<LegendEntry> legend = {{"Measured per window", "series"}};
  if (training) {
    const std::string at = Coord(y(*series.training_value));
    absl::StrAppend(&svg, "<line class=\"training\" x1=\"", Coord(frame.left), "\" x2=\"",
                    Coord(frame.width - frame.right), "\" y1=\"", at, "\" y2=\"", at, "\"><title>",
                    HtmlEscape(absl::StrCat("training ", series.metric, " ",
                                            FormatNumber(*series.training_value))),
                    "</title></line>");
    legend.push_back({absl::StrCat("Training ", FormatNumber(*series.training_value)), "training",
                      /*dashed=*/true});
  }
  std::string path;
  for (const PerformancePoint& p : points) {
    absl::StrAppend(&path, path.empty() ? "" : " ", Coord(x(absl::ToUnixSeconds(p.window_start))),
                    ",", Coord(y(p.value)));
  }
  absl::StrAppend(&svg, "<polyline class=\"series\" points=\"", path, "\"/>");
  for (const PerformancePoint& p : points) {
    absl::StrAppend(&svg, "<circle class=\"point\" cx=\"",
                    Coord(x(absl::ToUnixSeconds(p.window_start))), "\" cy=\"", Coord(y(p.value)),
                    "\" r=\"3.5\"><title>", HtmlEscape(PointTitle(series, p)), "</title></circle>");
  }
  // Time labels on evenly spaced points, always the first and the last.
  const size_t labelled = std::min(points.size(), kMaxTimeLabels);
  for (size_t k = 0; k < labelled; ++k) {
    const size_t i = labelled == 1 ? 0 : k * (points.size() - 1) / (labelled - 1);
    absl::StrAppend(&svg, "<text class=\"tick\" x=\"",
                    Coord(x(absl::ToUnixSeconds(points[i].window_start))), "\" y=\"",
                    Coord(frame.Bottom() + 16), "\" text-anchor=\"",
                    // The last label ends at its point so it never runs off the chart.
                    labelled > 1 && k == labelled - 1 ? "end" : "middle", "\">",
                    HtmlEscape(TimeLabel(points[i].window_start)), "</text>");
  }
  absl::StrAppend(&svg, Legend(frame, legend), "</svg>");
  return svg;
}

}  // namespace fabrique::monitoring::report
