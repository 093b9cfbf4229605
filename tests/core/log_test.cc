#include "libs/core/log.h"

#include <cmath>

#include "catch2/catch.hpp"

namespace fabrique::core {
namespace {

TEST_CASE("a log line is one JSON object with ts, level, event and fields") {
  const std::string line =
      FormatLogLine(LogLevel::kWarning, "server_started",
                    {{"service", "features"}, {"port", 7101}, {"ratio", 0.5}, {"ok", true}});
  CHECK(line.front() == '{');
  CHECK(line.back() == '}');
  CHECK(line.find("\"ts\":\"20") != std::string::npos);
  CHECK(line.find("\"level\":\"warning\"") != std::string::npos);
  CHECK(line.find("\"event\":\"server_started\"") != std::string::npos);
  CHECK(line.find("\"service\":\"features\"") != std::string::npos);
  CHECK(line.find("\"port\":7101") != std::string::npos);
  CHECK(line.find("\"ratio\":0.5") != std::string::npos);
  CHECK(line.find("\"ok\":true") != std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("strings are escaped so a line stays valid JSON") {
  CHECK(JsonEscape("a\"b\\c\nd\te\x01") == "a\\\"b\\\\c\\nd\\te\\u0001");
  const std::string line = FormatLogLine(LogLevel::kInfo, "x", {{"nan", std::nan("")}});
  CHECK(line.find("\"nan\":\"nan\"") != std::string::npos);
}

TEST_CASE("log levels parse by name") {
  LogLevel level = LogLevel::kInfo;
  CHECK(ParseLogLevel("debug", &level));
  CHECK(level == LogLevel::kDebug);
  CHECK(ParseLogLevel("error", &level));
  CHECK(level == LogLevel::kError);
  CHECK_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace fabrique::core
