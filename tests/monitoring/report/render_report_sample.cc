// Writes the sample report's page to the path given, for the render test
// (tests/python/test_monitor_report_render.py), which screenshots it in headless Chromium.

#include <fstream>
#include <iostream>

#include "libs/monitoring/report/html_report.h"
#include "tests/monitoring/report/sample_report.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: render_report_sample OUTPUT.html\n";
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << fabrique::monitoring::report::RenderHtmlReport(
      fabrique::monitoring::report::SampleReport());
  out.close();
  if (!out) {
    std::cerr << "cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
