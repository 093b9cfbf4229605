// The top of the page: what a product owner needs in ten seconds. Is the model healthy, what
// changed, since when — in one sentence built from the figures below it, so the words and the
// tables can never disagree.

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"

namespace fabrique::monitoring::report {
namespace {

struct FeatureCounts {
  int drifted = 0;
  int with_enough_data = 0;
  int total = 0;
};

FeatureCounts CountFeatures(const ReportModel& model) {
  FeatureCounts counts;
  for (const FeatureReport& f : model.features) {
    ++counts.total;
    if (f.enough_data) ++counts.with_enough_data;
    if (f.enough_data && f.drifted) ++counts.drifted;
  }
  return counts;
}

std::string Since(const ReportModel& model) {
  if (!model.health_since.has_value()) return "";
  return absl::StrCat(" since ", FormatSince(*model.health_since, model.generated_at));
}

std::string OfFeatures(int part, int total) {
  return absl::StrCat(part, " of ", total, total == 1 ? " feature" : " features");
}

std::string MostDrifted(const ReportModel& model) {
  const FeatureReport& worst = model.features[FeaturesBySeverity(model.features).front()];
  return absl::StrCat("most of all \xE2\x80\x9C", worst.name, "\xE2\x80\x9D (",
                      DriftEvidence(worst), ")");
}

// A metric's last window against training, as a shortfall (> 0: worse than at training).
std::optional<double> Shortfall(const MetricSeries& series) {
  if (series.points.empty() || !series.training_value.has_value()) return std::nullopt;
  const double last = series.points.back().value;
  const double trained = *series.training_value;
  if (!std::isfinite(last) || !std::isfinite(trained)) return std::nullopt;
  const double scale = std::abs(trained) > 0 ? std::abs(trained) : 1;
  return (series.higher_is_better ? trained - last : last - trained) / scale;
}

std::string WorstMetric(const ReportModel& model) {
  const MetricSeries* worst = nullptr;
  double worst_shortfall = 0;
  for (const MetricSeries& series : model.performance) {
    const std::optional<double> shortfall = Shortfall(series);
    if (shortfall.has_value() && (worst == nullptr || *shortfall > worst_shortfall)) {
      worst = &series;
      worst_shortfall = *shortfall;
    }
  }
  if (worst == nullptr) return "performance fell below the training figure";
  return absl::StrCat(worst->metric, " ", FormatNumber(worst->points.back().value), " against ",
                      FormatNumber(*worst->training_value), " at training");
}

std::string HealthClass(Health health) {
  switch (health) {
    case Health::kHealthy:
      return "healthy";
    case Health::kDrifting:
      return "drifting";
    case Health::kDegraded:
      return "degraded";
    case Health::kNotEnoughData:
      return "no-data";
  }
  return "no-data";
}

std::string Figure(absl::string_view value, absl::string_view label) {
  return absl::StrCat("<div class=\"figure\"><div class=\"value\">", HtmlEscape(value),
                      "</div><div class=\"label\">", HtmlEscape(label), "</div></div>");
}

}  // namespace

std::string SummaryHeadline(const ReportModel& model) {
  const FeatureCounts counts = CountFeatures(model);
  const std::string period = PeriodInWords(model.period_to - model.period_from);
  switch (model.health) {
    case Health::kHealthy:
      if (counts.total == 0) return absl::StrCat("Healthy in the last ", period);
      return absl::StrCat("Healthy: no feature drifted in the last ", period);
    case Health::kDrifting:
      if (counts.drifted == 0) return absl::StrCat("Drifting", Since(model));
      return absl::StrCat("Drifting", Since(model), ": ", OfFeatures(counts.drifted, counts.total),
                          ", ", MostDrifted(model));
    case Health::kDegraded: {
      std::string headline = absl::StrCat("Degraded", Since(model), ": ", WorstMetric(model));
      if (counts.drifted > 0) {
        absl::StrAppend(&headline, "; ", OfFeatures(counts.drifted, counts.total), " drifted");
      }
      return headline;
    }
    case Health::kNotEnoughData:
      if (counts.total == 0) {
        return absl::StrCat("Not enough data in the last ", period, ": nothing to compare yet");
      }
      return absl::StrCat("Not enough data in the last ", period, ": ",
                          OfFeatures(counts.with_enough_data, counts.total),
                          " had enough values for a verdict");
  }
  return HealthLabel(model.health);
}

std::string RenderSummary(const ReportModel& model) {
  const FeatureCounts counts = CountFeatures(model);
  std::string html =
      absl::StrCat("<section class=\"summary ", HealthClass(model.health), "\">",
                   "<div class=\"badge\">", HtmlEscape(HealthLabel(model.health)), "</div>",
                   "<h1 class=\"headline\">", HtmlEscape(SummaryHeadline(model)), "</h1>");
  if (!model.health_reason.empty()) {
    absl::StrAppend(&html, "<p class=\"reason\">", HtmlEscape(model.health_reason), "</p>");
  }
  absl::StrAppend(&html, "<div class=\"figures\">",
                  Figure(absl::StrCat(counts.drifted, " / ", counts.total), "features drifted"));
  if (counts.with_enough_data < counts.total) {
    absl::StrAppend(&html, Figure(absl::StrCat(counts.total - counts.with_enough_data),
                                  "features without enough data"));
  }
  for (const MetricSeries& series : model.performance) {
    if (series.points.empty()) continue;
    std::string label = absl::StrCat(series.metric, ", last window");
    if (series.training_value.has_value()) {
      absl::StrAppend(&label, " (training ", FormatNumber(*series.training_value), ")");
    }
    absl::StrAppend(&html, Figure(FormatNumber(series.points.back().value), label));
  }
  absl::StrAppend(&html, Figure(absl::StrCat(model.alerts.size()), "alerts firing"),
                  "</div></section>");
  return html;
}

std::string RenderAlerts(const ReportModel& model) {
  if (model.alerts.empty()) return "";
  std::string html = "<section class=\"alerts\"><h2>Alerts firing</h2><ul>";
  // Critical first, then warnings, then the rest, each in the monitor's order.
  for (absl::string_view level : {"critical", "warning", ""}) {
    for (const Alert& alert : model.alerts) {
      const bool known = alert.severity == "critical" || alert.severity == "warning";
      if (level.empty() ? known : alert.severity != level) continue;
      absl::StrAppend(&html, "<li class=\"alert ", level.empty() ? "other" : level,
                      "\"><span class=\"severity\">", HtmlEscape(alert.severity),
                      "</span> <span class=\"alert-id\">", HtmlEscape(alert.id), "</span> ",
                      HtmlEscape(alert.summary), "</li>");
    }
  }
  absl::StrAppend(&html, "</ul></section>");
  return html;
}

}  // namespace fabrique::monitoring::report
