// The page's look. System fonts only (nothing to fetch), a readable column, and one colour per
// health state; the render test looks for the banner's colour in a screenshot, so a change here
// is a change there (tests/python/test_monitor_report_render.py).

#include "libs/monitoring/report/render_parts.h"

namespace fabrique::monitoring::report {

const char* ReportStyle() {
  return R"css(
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--paper:#f5f7fa;--card:#ffffff;
--reference:#4c78a8;--current:#f58518}
*{box-sizing:border-box}
body{margin:0;background:var(--paper);color:var(--ink);
font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:24px 28px 40px}
h2{font-size:19px;margin:32px 0 12px}
h3{font-size:16px;margin:0}
.masthead{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 16px;margin-bottom:16px}
.masthead .product{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.08em}
.masthead .model{font-size:22px;font-weight:700}
.masthead .meta{color:var(--muted);font-size:14px}
.summary{border-radius:12px;padding:22px 26px;color:#fff}
.summary.healthy{background:#1b7f3b}
.summary.drifting{background:#b85c00}
.summary.degraded{background:#b42318}
.summary.no-data{background:#52606d}
.summary .badge{display:inline-block;font-size:12px;font-weight:700;text-transform:uppercase;
letter-spacing:.08em;background:rgba(255,255,255,.2);border-radius:999px;padding:2px 10px}
.summary .headline{font-size:24px;line-height:1.3;margin:10px 0 6px}
.summary .reason{margin:0 0 14px;opacity:.92}
.figures{display:flex;flex-wrap:wrap;gap:12px}
.figure{background:rgba(255,255,255,.14);border-radius:8px;padding:8px 14px;min-width:140px}
.figure .value{font-size:22px;font-weight:700}
.figure .label{font-size:13px;opacity:.9}
.alerts ul{list-style:none;margin:0;padding:0}
.alert{background:var(--card);border-left:5px solid #9aa5b1;border-radius:6px;padding:8px 12px;
margin-bottom:8px}
.alert.critical{border-left-color:#b42318}
.alert.warning{border-left-color:#b85c00}
.alert .severity{font-weight:700;text-transform:uppercase;font-size:12px;letter-spacing:.06em}
.alert .alert-id{color:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
table{width:100%;border-collapse:collapse;background:var(--card);border-radius:10px;
overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.06)}
th,td{padding:8px 12px;white-space:nowrap;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr:last-child td{border-bottom:none}
a{color:#1f5fa8;text-decoration:none}
a:hover{text-decoration:underline}
.pill{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12px;font-weight:600;
white-space:nowrap}
.pill.drifted{background:#fde8d7;color:#8a4300}
.pill.stable{background:#dff3e4;color:#15602c}
.pill.no-data{background:#e4e7eb;color:#3e4c59}
.card{background:var(--card);border-radius:10px;padding:16px 20px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card header{display:flex;align-items:center;gap:12px}
.verdict,.subtitle{margin:6px 0 8px;color:var(--muted)}
.facts{display:grid;grid-template-columns:repeat(6,max-content);gap:2px 12px;font-size:13px;margin:0 0 8px}
.facts dt{color:var(--muted)}
.facts dd{margin:0 22px 0 0;font-weight:600}
.empty{color:var(--muted);font-style:italic}
svg.chart{width:100%;max-width:760px;height:auto;display:block}
svg text{font-size:12px;fill:var(--ink)}
svg .tick{fill:var(--muted);font-size:11px}
svg .axis-title{fill:var(--muted);font-size:12px}
svg .grid{stroke:var(--line);stroke-width:1}
svg .baseline{stroke:#9aa5b1;stroke-width:1}
svg rect.reference{fill:var(--reference);fill-opacity:.45;stroke:var(--reference);stroke-width:1}
svg rect.current{fill:var(--current);fill-opacity:.5;stroke:var(--current);stroke-width:1}
svg .series{fill:none;stroke:var(--reference);stroke-width:2.5}
svg .point{fill:var(--card);stroke:var(--reference);stroke-width:2}
svg rect.series{fill:var(--reference);stroke:none}
svg line.training{stroke:#3e4c59;stroke-width:2;stroke-dasharray:6 4}
footer{margin-top:32px;color:var(--muted);font-size:13px}
)css";
}

}  // namespace fabrique::monitoring::report
