#ifndef FABRIQUE_LIBS_CORE_LOG_H_
#define FABRIQUE_LIBS_CORE_LOG_H_

// Structured logging: one JSON object per line on stderr, so that Kubernetes log collectors can
// index the fields. Every line has "ts" (RFC 3339, UTC), "level", "event" and the caller's fields.
//
//   core::Log(core::LogLevel::kInfo, "server_started", {{"service", "features"}, {"port", 7101}});
// prints
//   {"ts":"2026-11-24T14:00:00.123Z","level":"info","event":"server_started","service":"features","port":7101}

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"

namespace fabrique::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// A field value: a string, an integer, a floating-point number or a boolean.
using LogValue = std::variant<std::string, int64_t, double, bool>;

struct LogField {
  LogField(absl::string_view k, absl::string_view v) : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(absl::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(absl::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, int64_t v) : key(k), value(v) {}
  LogField(absl::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, double v) : key(k), value(v) {}
  LogField(absl::string_view k, bool v) : key(k), value(v) {}
  std::string key;
  LogValue value;
};

// Writes one log line if `level` is at or above the minimum level. Thread-safe: lines from
// different threads never interleave.
void Log(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields = {});

// Returns the JSON line Log would print, without the trailing newline (for tests).
std::string FormatLogLine(LogLevel level, absl::string_view event,
                          std::initializer_list<LogField> fields);

// Sets the minimum level printed (default: info). Parses "debug", "info", "warning", "error".
void SetMinLogLevel(LogLevel level);
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// Escapes `text` as the inside of a JSON string.
std::string JsonEscape(absl::string_view text);

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_LOG_H_
