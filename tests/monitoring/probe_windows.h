#ifndef FABRIQUE_TESTS_MONITORING_PROBE_WINDOWS_H_
#define FABRIQUE_TESTS_MONITORING_PROBE_WINDOWS_H_

// The two windows the drift probes read from a file, and the JSON they print, for the
// comparisons with scipy in tests/python. The file is
//   numeric [FORM]
//   reference 1.5 nan 2.25 ...
//   current 0.5 inf ...
// or
//   categorical [FORM]
//   reference red=10 blue=3 ...
//   current red=4 green=1 ...

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/monitoring/drift_statistics.h"

namespace fabrique::monitoring {

struct ProbeWindows {
  std::string kind;  // "numeric" or "categorical"
  std::string form;  // the optional second word of the first line
  std::vector<double> values[2];
  CategoryCountMap counts[2];
};

inline absl::StatusOr<ProbeWindows> ReadProbeWindows(const std::string& path) {
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  ProbeWindows windows;
  std::istringstream(header) >> windows.kind >> windows.form;
  if (windows.kind != "numeric" && windows.kind != "categorical") {
    return absl::InvalidArgumentError(
        absl::StrCat("the first line must be numeric or categorical, not ", header));
  }
  for (int side = 0; side < 2 && std::getline(in, line); ++side) {
    std::istringstream words(line);
    std::string word;
    words >> word;  // "reference" or "current"
    while (words >> word) {
      if (windows.kind == "numeric") {
        windows.values[side].push_back(std::strtod(word.c_str(), nullptr));
        continue;
      }
      const size_t equals = word.rfind('=');
      int64_t count = 0;
      if (equals == std::string::npos || !absl::SimpleAtoi(word.substr(equals + 1), &count)) {
        return absl::InvalidArgumentError(absl::StrCat("not a category=count pair: ", word));
      }
      windows.counts[side][word.substr(0, equals)] += count;
    }
  }
  return windows;
}

// A double as JSON that Python's json module reads back exactly (it accepts NaN and Infinity).
inline std::string JsonNumber(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return absl::StrFormat("%.17g", x);
}

inline std::string JsonString(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// Prints {"error": message} and returns the probes' exit status for a failure, 1.
inline int ProbeFailure(absl::string_view message) {
  std::printf("{\"error\": %s}\n", JsonString(message).c_str());
  return 1;
}

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_TESTS_MONITORING_PROBE_WINDOWS_H_
