#ifndef FABRIQUE_LIBS_MONITORING_REPORT_SVG_CHART_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_SVG_CHART_H_

// The frame the report's charts share: a fixed-size plot area, linear scales, "nice" axis
// ticks, and the legend. Coordinates are printed with one decimal so output is deterministic.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fabrique::monitoring::report {

// Every chart is this size in SVG units; the page scales it to the column's width.
struct ChartFrame {
  double width = 640;
  double height = 260;
  double left = 64;  // room for the y tick labels and the y axis title
  double right = 16;
  double top = 34;     // room for the legend
  double bottom = 56;  // room for the x tick labels and the x axis title

  double PlotWidth() const { return width - left - right; }
  double PlotHeight() const { return height - top - bottom; }
  double Bottom() const { return height - bottom; }
};

// Maps [domain_min, domain_max] onto [range_min, range_max]; a zero-width domain maps to the
// middle of the range.
struct LinearScale {
  double domain_min = 0;
  double domain_max = 1;
  double range_min = 0;
  double range_max = 1;

  double operator()(double value) const;
};

// Returns about `count` round tick values (1, 2 or 5 times a power of ten apart) covering
// [min, max]; the first is <= min and the last >= max.
std::vector<double> NiceTicks(double min, double max, int count);

// Returns a coordinate as text with one decimal ("12.5").
std::string Coord(double value);

// Returns the opening <svg> tag for `frame` with an accessible label.
std::string SvgOpen(const ChartFrame& frame, absl::string_view label);

// Returns the horizontal grid lines and y tick labels for `ticks`, and the y axis title.
std::string YAxis(const ChartFrame& frame, const LinearScale& y, const std::vector<double>& ticks,
                  const std::vector<std::string>& tick_labels, absl::string_view title);

// Returns the x axis line and its title, centred under the plot.
std::string XAxis(const ChartFrame& frame, absl::string_view title);

struct LegendEntry {
  std::string label;
  std::string css_class;  // the swatch's class: its colour comes from the page's style
  bool dashed = false;    // a dashed line instead of a square
};

// Returns the legend, laid out left to right above the plot.
std::string Legend(const ChartFrame& frame, const std::vector<LegendEntry>& entries);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_SVG_CHART_H_
