#include "libs/monitoring/report/svg_chart.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/monitoring/report/html_escape.h"

namespace fabrique::monitoring::report {

double LinearScale::operator()(double value) const {
  if (domain_max == domain_min) return (range_min + range_max) / 2;
  return range_min + (value - domain_min) / (domain_max - domain_min) * (range_max - range_min);
}

std::vector<double> NiceTicks(double min, double max, int count) {
  if (!std::isfinite(min) || !std::isfinite(max)) return {0, 1};
  if (max < min) std::swap(min, max);
  if (max == min) {
    const double pad = min == 0 ? 1 : std::abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const double raw = (max - min) / std::max(count, 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(min / step) * step;
  for (int i = 0; i < 50; ++i) {
    double tick = first + i * step;
    if (std::abs(tick) < step * 1e-9) tick = 0;  // never print "-0" or 1e-17
    ticks.push_back(tick);
    if (tick >= max - step * 1e-9) break;
  }
  return ticks;
}

std::string Coord(double value) {
  std::string text = absl::StrFormat("%.1f", value);
  return text == "-0.0" ? "0.0" : text;
}

std::string SvgOpen(const ChartFrame& frame, absl::string_view label) {
  // No xmlns: inline SVG in HTML5 needs none, and the page carries no URL at all.
  return absl::StrCat("<svg class=\"chart\" viewBox=\"0 0 ", Coord(frame.width), " ",
                      Coord(frame.height), "\" role=\"img\" aria-label=\"", HtmlEscape(label),
                      "\">");
}

std::string YAxis(const ChartFrame& frame, const LinearScale& y, const std::vector<double>& ticks,
                  const std::vector<std::string>& tick_labels, absl::string_view title) {
  std::string svg = "<g class=\"axis\">";
  for (size_t i = 0; i < ticks.size(); ++i) {
    const std::string at = Coord(y(ticks[i]));
    absl::StrAppend(&svg, "<line class=\"grid\" x1=\"", Coord(frame.left), "\" x2=\"",
                    Coord(frame.width - frame.right), "\" y1=\"", at, "\" y2=\"", at, "\"/>",
                    "<text class=\"tick\" x=\"", Coord(frame.left - 6), "\" y=\"", at,
                    "\" text-anchor=\"end\" dominant-baseline=\"middle\">",
                    HtmlEscape(i < tick_labels.size() ? tick_labels[i] : ""), "</text>");
  }
  const double middle = frame.top + frame.PlotHeight() / 2;
  absl::StrAppend(&svg, "<text class=\"axis-title\" transform=\"translate(14 ", Coord(middle),
                  ") rotate(-90)\" text-anchor=\"middle\">", HtmlEscape(title), "</text></g>");
  return svg;
}

std::string XAxis(const ChartFrame& frame, absl::string_view title) {
  return absl::StrCat("<g class=\"axis\"><line class=\"baseline\" x1=\"", Coord(frame.left),
                      "\" x2=\"", Coord(frame.width - frame.right), "\" y1=\"",
                      Coord(frame.Bottom()), "\" y2=\"", Coord(frame.Bottom()), "\"/>",
                      "<text class=\"axis-title\" x=\"", Coord(frame.left + frame.PlotWidth() / 2),
                      "\" y=\"", Coord(frame.height - 8), "\" text-anchor=\"middle\">",
                      HtmlEscape(title), "</text></g>");
}

std::string Legend(const ChartFrame& frame, const std::vector<LegendEntry>& entries) {
  std::string svg = "<g class=\"legend\">";
  double x = frame.left;
  const double y = 14;
  for (const LegendEntry& entry : entries) {
    if (entry.dashed) {
      absl::StrAppend(&svg, "<line class=\"", entry.css_class, "\" x1=\"", Coord(x), "\" x2=\"",
                      Coord(x + 18), "\" y1=\"", Coord(y), "\" y2=\"", Coord(y), "\"/>");
    } else {
      absl::StrAppend(&svg, "<rect class=\"", entry.css_class, "\" x=\"", Coord(x), "\" y=\"",
                      Coord(y - 6), "\" width=\"18\" height=\"12\" rx=\"2\"/>");
    }
    absl::StrAppend(&svg, "<text x=\"", Coord(x + 24), "\" y=\"", Coord(y),
                    "\" dominant-baseline=\"middle\">", HtmlEscape(entry.label), "</text>");
    // Legend labels are short; 7 units a character keeps them apart at the page's font size.
    x += 24 + 7.0 * entry.label.size() + 20;
  }
  absl::StrAppend(&svg, "</g>");
  return svg;
}

}  // namespace fabrique::monitoring::report
