// The distribution chart of one feature. Numbers: the reference and current histograms drawn
// over each other on the same bins, so a shift reads as orange where there was blue. Categories:
// a pair of bars per category, the largest categories first when there are too many to label.

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"
#include "libs/monitoring/report/svg_chart.h"

namespace fabrique::monitoring::report {
namespace {

// More categories than this are folded into "other": their labels would not fit.
constexpr size_t kMaxCategories = 12;

const std::vector<LegendEntry>& DistributionLegend() {
  static const auto* legend =
      new std::vector<LegendEntry>{{"Reference (training)", "reference"}, {"Current", "current"}};
  return *legend;
}

double Share(const std::vector<double>& shares, size_t i) {
  return i < shares.size() && std::isfinite(shares[i]) ? std::max(shares[i], 0.0) : 0.0;
}

// The share axis: from 0 to a little above the tallest bar, in percent.
LinearScale ShareScale(const ChartFrame& frame, double max_share, std::vector<double>* ticks,
                       std::vector<std::string>* labels) {
  *ticks = NiceTicks(0, max_share > 0 ? max_share : 1, 4);
  for (double tick : *ticks) labels->push_back(FormatPercent(tick));
  return LinearScale{0, ticks->back(), frame.Bottom(), frame.top};
}

bool EdgesUsable(const std::vector<double>& edges, size_t bins) {
  if (edges.size() != bins + 1) return false;
  for (size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1])) return false;
  }
  return true;
}

std::string Bar(absl::string_view css_class, double x, double width, double top, double bottom,
                absl::string_view title) {
  return absl::StrCat("<rect class=\"", css_class, "\" x=\"", Coord(x), "\" y=\"", Coord(top),
                      "\" width=\"", Coord(std::max(width, 0.5)), "\" height=\"",
                      Coord(std::max(bottom - top, 0.0)), "\"><title>", HtmlEscape(title),
                      "</title></rect>");
}

std::string NumericBars(const FeatureReport& feature, const ChartFrame& frame,
                        const LinearScale& y) {
  const Distribution& d = feature.distribution;
  const size_t bins = d.bin_edges.size() - 1;
  LinearScale x{d.bin_edges.front(), d.bin_edges.back(), frame.left, frame.width - frame.right};
  std::string svg;
  // All reference bars first, then all current bars over them.
  for (const std::vector<double>* shares : {&d.reference_shares, &d.current_shares}) {
    const absl::string_view css_class = shares == &d.reference_shares ? "reference" : "current";
    for (size_t i = 0; i < bins; ++i) {
      const std::string title =
          absl::StrCat("[", FormatNumber(d.bin_edges[i]), ", ", FormatNumber(d.bin_edges[i + 1]),
                       "): reference ", FormatPercent(Share(d.reference_shares, i)), ", current ",
                       FormatPercent(Share(d.current_shares, i)));
      const double left = x(d.bin_edges[i]);
      absl::StrAppend(&svg, Bar(css_class, left + 0.5, x(d.bin_edges[i + 1]) - left - 1,
                                y(Share(*shares, i)), frame.Bottom(), title));
    }
  }
  // The value axis: round ticks inside the bins' range.
  for (double tick : NiceTicks(d.bin_edges.front(), d.bin_edges.back(), 6)) {
    if (tick < d.bin_edges.front() || tick > d.bin_edges.back()) continue;
    absl::StrAppend(&svg, "<text class=\"tick\" x=\"", Coord(x(tick)), "\" y=\"",
                    Coord(frame.Bottom() + 16), "\" text-anchor=\"middle\">",
                    HtmlEscape(FormatNumber(tick)), "</text>");
  }
  return svg;
}

struct Category {
  std::string label;
  double reference = 0;
  double current = 0;
};

// The categories to draw: all of them, or the largest and one "other" for the rest.
std::vector<Category> CategoriesToDraw(const Distribution& d) {
  std::vector<Category> all;
  for (size_t i = 0; i < d.categories.size(); ++i) {
    all.push_back({d.categories[i], Share(d.reference_shares, i), Share(d.current_shares, i)});
  }
  if (all.size() <= kMaxCategories) return all;
  std::stable_sort(all.begin(), all.end(), [](const Category& a, const Category& b) {
    return std::max(a.reference, a.current) > std::max(b.reference, b.current);
  });
  Category other{absl::StrCat("other (", all.size() - (kMaxCategories - 1), ")")};
  for (size_t i = kMaxCategories - 1; i < all.size(); ++i) {
    other.reference += all[i].reference;
    other.current += all[i].current;
  }
  all.resize(kMaxCategories - 1);
  all.push_back(other);
  return all;
}

std::string ShortLabel(const std::string& label) {
  constexpr size_t kMaxChars = 12;
  if (label.size() <= kMaxChars) return label;
  size_t cut = kMaxChars - 1;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return absl::StrCat(label.substr(0, cut), "\xE2\x80\xA6");
}

std::string CategoryBars(const std::vector<Category>& categories, const ChartFrame& frame,
                         const LinearScale& y) {
  std::string svg;
  const double slot = frame.PlotWidth() / categories.size();
  const double bar = std::min(slot * 0.38, 40.0);
  const bool slanted = categories.size() > 6;
  for (size_t i = 0; i < categories.size(); ++i) {
    const Category& c = categories[i];
    const double middle = frame.left + slot * (i + 0.5);
    const std::string title = absl::StrCat(c.label, ": reference ", FormatPercent(c.reference),
                                           ", current ", FormatPercent(c.current));
    absl::StrAppend(&svg,
                    Bar("reference", middle - bar, bar, y(c.reference), frame.Bottom(), title),
                    Bar("current", middle, bar, y(c.current), frame.Bottom(), title));
    const std::string label_y = Coord(frame.Bottom() + 16);
    absl::StrAppend(&svg, "<text class=\"tick\" x=\"", Coord(middle), "\" y=\"", label_y, "\"",
                    slanted ? absl::StrCat(" transform=\"rotate(-25 ", Coord(middle), " ", label_y,
                                           ")\" text-anchor=\"end\"")
                            : " text-anchor=\"middle\"",
                    "><title>", HtmlEscape(c.label), "</title>", HtmlEscape(ShortLabel(c.label)),
                    "</text>");
  }
  return svg;
}

}  // namespace

std::string RenderDistributionSvg(const FeatureReport& feature) {
  const Distribution& d = feature.distribution;
  const bool numeric = !d.bin_edges.empty();
  const size_t count = numeric ? d.bin_edges.size() - 1 : d.categories.size();
  if (count == 0 || (numeric && !EdgesUsable(d.bin_edges, count))) {
    return "<p class=\"empty\">No distribution was recorded for this feature.</p>";
  }
  ChartFrame frame;
  std::vector<Category> categories;
  double max_share = 0;
  if (numeric) {
    for (size_t i = 0; i < count; ++i) {
      max_share = std::max({max_share, Share(d.reference_shares, i), Share(d.current_shares, i)});
    }
  } else {
    categories = CategoriesToDraw(d);
    for (const Category& c : categories) max_share = std::max({max_share, c.reference, c.current});
    if (categories.size() > 6) frame.bottom += 24;  // slanted labels need more room
  }
  std::vector<double> ticks;
  std::vector<std::string> labels;
  const LinearScale y = ShareScale(frame, max_share, &ticks, &labels);
  std::string svg =
      SvgOpen(frame, absl::StrCat("Distribution of ", feature.name, ": reference against current"));
  absl::StrAppend(&svg, YAxis(frame, y, ticks, labels, "share of rows"));
  absl::StrAppend(&svg,
                  numeric ? NumericBars(feature, frame, y) : CategoryBars(categories, frame, y));
  absl::StrAppend(&svg, XAxis(frame, numeric ? absl::StrCat(feature.name, " (value)")
                                             : absl::StrCat(feature.name, " (category)")));
  absl::StrAppend(&svg, Legend(frame, DistributionLegend()), "</svg>");
  return svg;
}

}  // namespace fabrique::monitoring::report
