// The features: a table ranked by how far each is past its threshold, then one card per
// feature with its verdict in words and its two distributions.

#include "absl/strings/str_cat.h"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"

namespace fabrique::monitoring::report {
namespace {

std::string KindLabel(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::kNumeric:
      return "numeric";
    case FeatureKind::kCategorical:
      return "categorical";
    case FeatureKind::kBinary:
      return "binary";
  }
  return "";
}

std::string StatusPill(const FeatureReport& f) {
  if (!f.enough_data) return "<span class=\"pill no-data\">Not enough data</span>";
  if (f.drifted) return "<span class=\"pill drifted\">Drifted</span>";
  return "<span class=\"pill stable\">Stable</span>";
}

// The rule that means drift, as the reader applies it: "p < 0.05" or "≥ 0.1".
std::string ThresholdRule(const FeatureReport& f) {
  if (f.test.empty()) return "\xE2\x80\x94";  // No test ran (no reference): no rule.
  if (f.drift_when == DriftWhen::kPValueBelow) {
    return absl::StrCat("p < ", FormatNumber(f.threshold));
  }
  return absl::StrCat("\xE2\x89\xA5 ", FormatNumber(f.threshold));
}

std::string Missing(const FeatureReport& f) {
  return absl::StrCat(FormatPercent(f.reference_missing_rate), " \xE2\x86\x92 ",
                      FormatPercent(f.current_missing_rate));
}

std::string Cell(absl::string_view text, absl::string_view css_class = "") {
  return absl::StrCat(css_class.empty() ? "<td>" : absl::StrCat("<td class=\"", css_class, "\">"),
                      HtmlEscape(text), "</td>");
}

// The verdict in a sentence, for the feature's card.
std::string Verdict(const FeatureReport& f) {
  if (!f.enough_data) {
    return "Too few values in one of the windows for a verdict: this is not a sign of health.";
  }
  const std::string evidence = DriftEvidence(f);
  if (f.drifted) return absl::StrCat("Drifted: ", evidence, ".");
  return absl::StrCat("No drift: ", evidence, ".");
}

}  // namespace

std::string FeatureAnchor(size_t index) { return absl::StrCat("feature-", index); }

std::string RenderFeatureTable(const ReportModel& model) {
  std::string html = "<section class=\"features\"><h2>Features, most drifted first</h2>";
  if (model.features.empty()) {
    absl::StrAppend(&html,
                    "<p class=\"empty\">No feature was checked for drift in this period.</p>",
                    "</section>");
    return html;
  }
  absl::StrAppend(&html,
                  "<table><thead><tr><th>Status</th><th>Feature</th><th>Kind</th><th>Test</th>"
                  "<th class=\"num\">Statistic</th><th class=\"num\">p-value</th>"
                  "<th class=\"num\">Drift when</th><th class=\"num\">Missing, reference "
                  "\xE2\x86\x92 now</th></tr></thead><tbody>");
  for (size_t i : FeaturesBySeverity(model.features)) {
    const FeatureReport& f = model.features[i];
    absl::StrAppend(&html, "<tr>", "<td>", StatusPill(f), "</td>", "<td><a href=\"#",
                    FeatureAnchor(i), "\">", HtmlEscape(f.name), "</a></td>",
                    Cell(KindLabel(f.kind)), Cell(TestDisplayName(f.test)),
                    Cell(FormatNumber(f.statistic), "num"),
                    Cell(f.p_value.has_value() ? FormatNumber(*f.p_value) : "\xE2\x80\x94", "num"),
                    Cell(ThresholdRule(f), "num"), Cell(Missing(f), "num"), "</tr>");
  }
  absl::StrAppend(&html, "</tbody></table></section>");
  return html;
}

std::string RenderFeatureDetails(const ReportModel& model) {
  if (model.features.empty()) return "";
  std::string html = "<section class=\"details\"><h2>Feature details</h2>";
  for (size_t i : FeaturesBySeverity(model.features)) {
    const FeatureReport& f = model.features[i];
    absl::StrAppend(
        &html, "<article class=\"card\" id=\"", FeatureAnchor(i), "\">", "<header><h3>",
        HtmlEscape(f.name), "</h3>", StatusPill(f), "</header>", "<p class=\"verdict\">",
        HtmlEscape(Verdict(f)), "</p>", "<dl class=\"facts\"><dt>Kind</dt><dd>",
        HtmlEscape(KindLabel(f.kind)), "</dd><dt>Test</dt><dd>",
        HtmlEscape(TestDisplayName(f.test)), "</dd><dt>Statistic</dt><dd>",
        HtmlEscape(FormatNumber(f.statistic)), "</dd><dt>p-value</dt><dd>",
        HtmlEscape(f.p_value.has_value() ? FormatNumber(*f.p_value) : "\xE2\x80\x94"),
        "</dd><dt>Drift when</dt><dd>", HtmlEscape(ThresholdRule(f)), "</dd><dt>Missing</dt><dd>",
        HtmlEscape(Missing(f)), "</dd></dl>", RenderDistributionSvg(f), "</article>");
  }
  absl::StrAppend(&html, "</section>");
  return html;
}

}  // namespace fabrique::monitoring::report
