// Writes a sample report's page to the path given, for the render test
// (tests/python/test_monitor_report_render.py), which screenshots it in headless Chromium.
// The second argument picks the sample: drifting (the default), healthy or empty.

#include <fstream>
#include <iostream>
#include <string>

#include "libs/monitoring/report/html_report.h"
#include "tests/monitoring/report/sample_report.h"

int main(int argc, char** argv) {
  namespace report = fabrique::monitoring::report;
  const std::string sample = argc == 3 ? argv[2] : "drifting";
  if (argc < 2 || argc > 3 || (sample != "drifting" && sample != "healthy" && sample != "empty")) {
    std::cerr << "usage: render_report_sample OUTPUT.html [drifting|healthy|empty]\n";
    return 2;
  }
  const report::ReportModel model = sample == "healthy" ? report::HealthySampleReport()
                                    : sample == "empty" ? report::EmptySampleReport()
                                                        : report::SampleReport();
  std::ofstream out(argv[1], std::ios::binary);
  out << report::RenderHtmlReport(model);
  out.close();
  if (!out) {
    std::cerr << "cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
