// The report page's content: the summary sentence per health state, every feature with its
// test, statistic and threshold, the ranking, escaping of every text, no script and no
// reference outside the page, balanced tags, sensible empty pages, and determinism.

#include "libs/monitoring/report/html_report.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"
#include "tests/monitoring/report/sample_report.h"

namespace fabrique::monitoring::report {
namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// A tiny tag checker: every '<' in the page opens a tag, a comment or the doctype; every
// element other than HTML's void ones is closed, in order. Returns "" when the page passes,
// else what went wrong. The style sheet is skipped (it is CSS, not markup).
std::string CheckTags(const std::string& page) {
  static const std::set<std::string> kVoid = {"meta", "br",  "hr",   "img",  "link",  "input",
                                              "col",  "wbr", "area", "base", "source"};
  std::vector<std::string> open;
  size_t at = 0;
  while ((at = page.find('<', at)) != std::string::npos) {
    if (page.compare(at, 2, "<!") == 0) {
      at = page.find('>', at);
      if (at == std::string::npos) return "unterminated <!";
      continue;
    }
    const size_t end = page.find('>', at);
    if (end == std::string::npos) return "unterminated tag";
    const bool closing = page[at + 1] == '/';
    size_t name_start = at + (closing ? 2 : 1);
    size_t name_end = name_start;
    while (name_end < end &&
           (std::isalnum(static_cast<unsigned char>(page[name_end])) || page[name_end] == '-')) {
      ++name_end;
    }
    const std::string name = page.substr(name_start, name_end - name_start);
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) {
      return "a '<' that opens no tag at " + std::to_string(at);
    }
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes " + (open.empty() ? "nothing" : open.back());
      }
      open.pop_back();
    } else if (page[end - 1] != '/' && kVoid.count(name) == 0) {
      open.push_back(name);
    }
    at = end + 1;
    if (!closing && name == "style") {
      at = page.find("</style>", at);
      if (at == std::string::npos) return "unterminated style";
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return "";
}

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 12, day, hour, minute), absl::UTCTimeZone());
}

ReportModel EmptyModel(Health health) {
  ReportModel model;
  model.model = "churn";
  model.period_from = At(2, 1);
  model.period_to = At(3, 1);
  model.generated_at = At(3, 1);
  model.health = health;
  return model;
}

FeatureReport Stable(std::string name) {
  FeatureReport f;
  f.name = std::move(name);
  f.test = "wasserstein";
  f.statistic = 0.01;
  f.threshold = 0.1;
  f.drift_when = DriftWhen::kStatisticAtLeast;
  return f;
}

TEST_CASE("The summary says the health in plain words, per state") {
  SECTION("healthy") {
    ReportModel model = EmptyModel(Health::kHealthy);
    model.features = {Stable("age"), Stable("amount")};
    CHECK(SummaryHeadline(model) == "Healthy: no feature drifted in the last 24 h");
    CHECK(RenderHtmlReport(model).find("class=\"summary healthy\"") != std::string::npos);
  }
  SECTION("the samples the render test draws") {
    CHECK(SummaryHeadline(HealthySampleReport()) == "Healthy: no feature drifted in the last 24 h");
    CHECK(SummaryHeadline(EmptySampleReport()) ==
          "Not enough data in the last 3.5 h: nothing to compare yet");
  }
  SECTION("drifting names the count, the worst feature and its evidence") {
    const ReportModel model = SampleReport();
    CHECK(SummaryHeadline(model) ==
          "Drifting since 14:00: 3 of 12 features, most of all \xE2\x80\x9C"
          "amount"
          "\xE2\x80\x9D (Wasserstein 0.34 > 0.1)");
    CHECK(RenderHtmlReport(model).find("class=\"summary drifting\"") != std::string::npos);
  }
  SECTION("drifting since another day gives the date") {
    ReportModel model = SampleReport();
    model.health_since = At(1, 9, 30);
    CHECK(SummaryHeadline(model).rfind("Drifting since 1 Dec 09:30: 3 of 12 features", 0) == 0);
  }
  SECTION("degraded names the metric furthest below training, and the drift") {
    ReportModel model = EmptyModel(Health::kDegraded);
    model.health_since = At(3, 0);
    model.performance = {{"accuracy", {{At(2, 22), 0.86, 100}, {At(2, 23), 0.80, 120}}, 0.87, true},
                         {"rmse", {{At(2, 22), 1.0, 100}}, 1.0, false}};
    FeatureReport drifted = Stable("amount");
    drifted.statistic = 0.3;
    drifted.drifted = true;
    model.features = {drifted, Stable("age")};
    CHECK(SummaryHeadline(model) ==
          "Degraded since 00:00: accuracy 0.8 against 0.87 at training; 1 of 2 features drifted");
    CHECK(RenderHtmlReport(model).find("class=\"summary degraded\"") != std::string::npos);
  }
  SECTION("not enough data counts the features that had a verdict") {
    ReportModel model = EmptyModel(Health::kNotEnoughData);
    model.features = {Stable("age"), Stable("amount"), Stable("income")};
    model.features[1].enough_data = false;
    model.features[2].enough_data = false;
    CHECK(SummaryHeadline(model) ==
          "Not enough data in the last 24 h: 1 of 3 features had enough values for a verdict");
    CHECK(RenderHtmlReport(model).find("class=\"summary no-data\"") != std::string::npos);
  }
  SECTION("the monitor's reason follows the headline") {
    const std::string page = RenderHtmlReport(SampleReport());
    CHECK(page.find("Applicants since 14:00 ask for larger amounts") != std::string::npos);
    CHECK(page.find("class=\"headline\"") < page.find("class=\"reason\""));
  }
}

TEST_CASE("Every feature appears with its test, statistic and threshold") {
  const ReportModel model = SampleReport();
  const std::string page = RenderHtmlReport(model);
  for (const FeatureReport& f : model.features) {
    INFO(f.name);
    CHECK(Count(page, ">" + f.name + "<") >= 2);  // the table and its card
    CHECK(page.find(TestDisplayName(f.test)) != std::string::npos);
    CHECK(page.find(">" + FormatNumber(f.statistic) + "<") != std::string::npos);
    const std::string rule = f.drift_when == DriftWhen::kPValueBelow
                                 ? "p &lt; " + FormatNumber(f.threshold)
                                 : "\xE2\x89\xA5 " + FormatNumber(f.threshold);
    CHECK(page.find(">" + rule + "<") != std::string::npos);
  }
  CHECK(page.find(">0.0004<") != std::string::npos);  // duration_months' p-value
  CHECK(page.find("97% \xE2\x86\x92") == std::string::npos);
  CHECK(page.find("1% \xE2\x86\x92 97%") != std::string::npos);  // missing rates
}

TEST_CASE("The table ranks features by how far past their threshold they are") {
  const std::string page = RenderHtmlReport(SampleReport());
  const size_t table = page.find("<table>");
  const size_t table_end = page.find("</table>");
  REQUIRE(table != std::string::npos);
  auto row = [&](const std::string& name) { return page.find(">" + name + "<", table); };
  CHECK(row("amount") < row("duration_months"));        // 3.4 times its threshold
  CHECK(row("duration_months") < row("channel"));       // p 0.0004: 2.6 on a log scale
  CHECK(row("channel") < row("credit_history_years"));  // 2.3, then the stable ones
  CHECK(row("credit_history_years") < row("age"));
  CHECK(row("employment_years") < table_end);  // not enough data: last
  CHECK(row("dependents") < row("employment_years"));
  CHECK(Count(page.substr(table, table_end - table), "Drifted</span>") == 3);
  CHECK(Count(page.substr(table, table_end - table), "Not enough data</span>") == 1);
}

TEST_CASE("Every text from the model stays text") {
  ReportModel model = SampleReport();
  model.model = "fraud \"v2\" & <b>co</b>";
  model.versions = {"<i>7</i>"};
  model.health_reason = "<img src=x onerror=alert(1)>";
  model.features[1].name = "<script>alert(1)</script>";
  model.features[6].distribution.categories[0] = "</svg><script>alert(2)</script>";
  model.performance[0].metric = "acc<u>";
  model.alerts[0].summary = "<iframe>";
  model.alerts[0].id = "'><svg onload=alert(3)>";
  const std::string page = RenderHtmlReport(model);
  CHECK(CheckTags(page).empty());
  CHECK(page.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("fraud &quot;v2&quot; &amp; &lt;b&gt;co&lt;/b&gt;") != std::string::npos);
  CHECK(page.find("&#39;&gt;&lt;svg onload=alert(3)&gt;") != std::string::npos);
  const std::string lower = Lower(page);
  CHECK(lower.find("<script") == std::string::npos);
  CHECK(lower.find("<img") == std::string::npos);
  CHECK(lower.find("<iframe") == std::string::npos);
  CHECK(lower.find("<b>") == std::string::npos);
  CHECK(lower.find("<u>") == std::string::npos);
  CHECK(lower.find("<svg onload") == std::string::npos);
}

TEST_CASE("The page has no script and nothing outside itself") {
  const std::string lower = Lower(RenderHtmlReport(SampleReport()));
  for (const char* banned :
       {"<script", "http://", "https://", "<link", "<img", "<iframe", "<object", "<embed",
        "src=", "url(", "@import", "javascript:", "xlink:href", " on"}) {
    INFO(banned);
    if (std::string(banned) == " on") {
      // No event handler attribute (onload=, onclick=, ...) anywhere in a tag.
      CHECK(lower.find(" onload=") == std::string::npos);
      CHECK(lower.find(" onclick=") == std::string::npos);
      continue;
    }
    CHECK(lower.find(banned) == std::string::npos);
  }
  CHECK(lower.rfind("<!doctype html>", 0) == 0);
  CHECK(lower.find("<style>") != std::string::npos);
}

TEST_CASE("The page and its charts have balanced tags") {
  const ReportModel model = SampleReport();
  const std::string page = RenderHtmlReport(model);
  INFO(CheckTags(page));
  CHECK(CheckTags(page).empty());
  // One chart per feature with a distribution, one per metric.
  CHECK(Count(page, "<svg ") == model.features.size() + model.performance.size());
  CHECK(Count(page, "</svg>") == Count(page, "<svg "));
  CHECK(CheckTags("<div><svg></div></svg>") == "</div> closes svg");
  CHECK(CheckTags("<p>a < b</p>").rfind("a '<' that opens no tag", 0) == 0);
  CHECK(CheckTags("<main><p>") == "<p> is never closed");
}

TEST_CASE("A numeric feature's chart overlays both histograms with axes and a legend") {
  const FeatureReport amount = SampleReport().features[1];
  const std::string svg = RenderDistributionSvg(amount);
  CHECK(CheckTags(svg).empty());
  // 20 bins each, and each legend swatch.
  CHECK(Count(svg, "<rect class=\"reference\" x=") == 21);
  CHECK(Count(svg, "<rect class=\"current\" x=") == 21);
  CHECK(svg.find(">share of rows<") != std::string::npos);
  CHECK(svg.find(">amount (value)<") != std::string::npos);
  CHECK(svg.find(">Reference (training)<") != std::string::npos);
  CHECK(svg.find(">Current<") != std::string::npos);
  CHECK(svg.find(">-2<") != std::string::npos);  // value ticks
  CHECK(svg.find(">2<") != std::string::npos);
}

TEST_CASE("A categorical feature's chart pairs bars and folds the smallest categories") {
  FeatureReport f = Stable("merchant");
  f.kind = FeatureKind::kCategorical;
  for (int i = 0; i < 20; ++i) {
    f.distribution.categories.push_back("merchant number " + std::to_string(i));
    f.distribution.reference_shares.push_back(0.05);
    f.distribution.current_shares.push_back(i == 0 ? 0.2 : 0.8 / 19);
  }
  const std::string svg = RenderDistributionSvg(f);
  CHECK(CheckTags(svg).empty());
  CHECK(Count(svg, "<rect class=\"reference\" x=") == 12 + 1);  // and the legend's swatch
  CHECK(svg.find("other (9)") != std::string::npos);
  CHECK(svg.find("merchant nu\xE2\x80\xA6") != std::string::npos);           // shortened label
  CHECK(svg.find("<title>merchant number 0</title>") != std::string::npos);  // full name
}

TEST_CASE("A feature without a usable distribution says so instead of drawing") {
  FeatureReport f = Stable("age");
  CHECK(RenderDistributionSvg(f).find("No distribution was recorded") != std::string::npos);
  f.distribution.bin_edges = {0, 1, 1};  // not increasing
  f.distribution.reference_shares = {0.5, 0.5};
  f.distribution.current_shares = {0.5, 0.5};
  CHECK(RenderDistributionSvg(f).find("No distribution was recorded") != std::string::npos);
}

TEST_CASE("A metric's chart draws each window and the training figure dashed") {
  MetricSeries series{"accuracy", {{At(2, 1), 0.9, 10}, {At(2, 2), 0.8, 12}}, 0.88, true};
  std::string svg = RenderSeriesSvg(series);
  CHECK(CheckTags(svg).empty());
  CHECK(Count(svg, "<circle class=\"point\"") == 2);
  CHECK(svg.find("<line class=\"training\"") != std::string::npos);
  CHECK(svg.find(">Training 0.88<") != std::string::npos);
  CHECK(svg.find("accuracy 0.8 on 12 labelled") != std::string::npos);

  series.training_value.reset();
  series.points.resize(1);
  svg = RenderSeriesSvg(series);
  CHECK(CheckTags(svg).empty());
  CHECK(svg.find("class=\"training\"") == std::string::npos);
  CHECK(Count(svg, "<circle class=\"point\"") == 1);

  series.points.clear();
  CHECK(RenderSeriesSvg(series).find("No labelled predictions yet") != std::string::npos);
}

TEST_CASE("A model with no features, no performance and no alerts renders a sensible page") {
  for (Health health :
       {Health::kHealthy, Health::kDrifting, Health::kDegraded, Health::kNotEnoughData}) {
    const ReportModel model = EmptyModel(health);
    const std::string page = RenderHtmlReport(model);
    INFO(HealthLabel(health));
    CHECK(CheckTags(page).empty());
    CHECK(page.find("No feature was checked for drift in this period.") != std::string::npos);
    CHECK(page.find("No outcomes have been reported yet") != std::string::npos);
    CHECK(page.find("no version served") != std::string::npos);
    CHECK(page.find("Alerts firing</h2>") == std::string::npos);
    CHECK(page.find("<svg") == std::string::npos);
    CHECK(!SummaryHeadline(model).empty());
  }
  CHECK(SummaryHeadline(EmptyModel(Health::kNotEnoughData)) ==
        "Not enough data in the last 24 h: nothing to compare yet");
  CHECK(SummaryHeadline(EmptyModel(Health::kDegraded)) ==
        "Degraded: performance fell below the training figure");
}

TEST_CASE("Alerts are listed most severe first") {
  const std::string page = RenderHtmlReport(SampleReport());
  CHECK(page.find("accuracy-below-training") < page.find("drift-amount"));
  CHECK(page.find("<li class=\"alert critical\">") != std::string::npos);
}

TEST_CASE("The same model renders to the same bytes") {
  const ReportModel model = SampleReport();
  const std::string first = RenderHtmlReport(model);
  const ReportModel copy = model;
  CHECK(RenderHtmlReport(copy) == first);
  CHECK(RenderHtmlReport(SampleReport()) == first);
}

}  // namespace
}  // namespace fabrique::monitoring::report
