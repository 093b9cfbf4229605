#include "services/inference/batching_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {
namespace {

// A positive whole number in `text`, or INVALID_ARGUMENT naming `what`.
absl::StatusOr<int> Positive(absl::string_view text, absl::string_view what) {
  int value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value) || value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text, "' is not a positive whole number"));
  }
  return value;
}

// One CSV line's fields applied over `options`.
absl::Status ApplyFields(const std::vector<absl::string_view>& fields, absl::string_view where,
                         serving::BatcherOptions& options) {
  auto field = [&](size_t i) { return absl::StripAsciiWhitespace(fields[i]); };
  if (!field(1).empty()) {
    ASSIGN_OR_RETURN(options.max_batch_size,
                     Positive(field(1), absl::StrCat(where, " max_batch_size")));
  }
  if (!field(2).empty()) {
    ASSIGN_OR_RETURN(int micros, Positive(field(2), absl::StrCat(where, " max_queue_delay_us")));
    options.max_queue_delay = absl::Microseconds(micros);
  }
  if (!field(3).empty()) {
    ASSIGN_OR_RETURN(options.preferred_batch_sizes,
                     ParseBatchSizes(field(3), absl::StrCat(where, " preferred")));
  }
  if (!field(4).empty()) {
    ASSIGN_OR_RETURN(options.instances, Positive(field(4), absl::StrCat(where, " instances")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int>> ParseBatchSizes(absl::string_view text, absl::string_view flag) {
  std::vector<int> sizes;
  for (absl::string_view entry : absl::StrSplit(text, absl::ByAnyChar(",;"), absl::SkipEmpty())) {
    if (absl::StripAsciiWhitespace(entry).empty()) continue;
    ASSIGN_OR_RETURN(int size, Positive(entry, flag));
    sizes.push_back(size);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

absl::StatusOr<std::map<std::string, serving::BatcherOptions>> ParseBatchingOverrides(
    absl::string_view csv, const serving::BatcherOptions& defaults, absl::string_view source) {
  std::map<std::string, serving::BatcherOptions> overrides;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty() || absl::StartsWith(line, "model,")) continue;
    const std::string where = absl::StrCat(source, " line ", number);
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    if (fields.size() != 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " has ", fields.size(),
          " fields; want model,max_batch_size,max_queue_delay_us,preferred,instances"));
    }
    const std::string model(absl::StripAsciiWhitespace(fields[0]));
    if (model.empty()) return absl::InvalidArgumentError(absl::StrCat(where, " names no model"));
    if (overrides.count(model) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " gives model '", model, "' a second time"));
    }
    serving::BatcherOptions options = defaults;
    RETURN_IF_ERROR(ApplyFields(fields, where, options));
    overrides.emplace(model, std::move(options));
  }
  return overrides;
}

absl::StatusOr<std::map<std::string, serving::BatcherOptions>> ReadBatchingFile(
    const std::string& path, const serving::BatcherOptions& defaults) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("--batching_file ", path, " cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseBatchingOverrides(text.str(), defaults, path);
}

}  // namespace fabrique::services
