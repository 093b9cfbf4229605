#include "tools/cli/registry_args.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fabrique::cli {
namespace {

// Two-character operators first, so ">=" is not read as ">" then "=".
constexpr std::pair<absl::string_view, v1::ComparisonOp> kOps[] = {
    {">=", v1::COMPARISON_OP_GREATER_OR_EQUAL},
    {"<=", v1::COMPARISON_OP_LESS_OR_EQUAL},
    {"==", v1::COMPARISON_OP_EQUAL},
    {">", v1::COMPARISON_OP_GREATER},
    {"<", v1::COMPARISON_OP_LESS},
};

absl::Status Invalid(absl::string_view text, absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat("'", text, "': expected ", expected));
}

// Enum values read as `<prefix><NAME>` from `text` in any case, with `aliases` first.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(absl::string_view text, absl::string_view prefix,
                               bool (*parse)(const std::string&, Enum*),
                               std::vector<std::pair<absl::string_view, Enum>> aliases,
                               absl::string_view expected) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (const auto& [alias, value] : aliases) {
    if (lower == alias) return value;
  }
  Enum value;
  if (!lower.empty() && parse(absl::StrCat(prefix, absl::AsciiStrToUpper(lower)), &value) &&
      static_cast<int>(value) != 0) {
    return value;
  }
  return Invalid(text, expected);
}

}  // namespace

absl::StatusOr<int64_t> ParseVersionNumber(absl::string_view text) {
  int64_t number = 0;
  if (!absl::SimpleAtoi(text, &number) || number < 1) {
    return Invalid(text, "a version number (1, 2, ...)");
  }
  return number;
}

absl::StatusOr<VersionSpec> ParseVersionSpec(absl::string_view text, bool allow_artifact) {
  const absl::string_view expected = allow_artifact
                                         ? "NAME, NAME:VERSION or NAME@ALIAS, then /ARTIFACT"
                                         : "NAME, NAME:VERSION or NAME@ALIAS";
  VersionSpec spec;
  absl::string_view rest = text;
  if (const size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    if (!allow_artifact || slash + 1 == rest.size()) return Invalid(text, expected);
    spec.artifact = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.find(':');
  const size_t at = rest.find('@');
  if (colon != absl::string_view::npos && at != absl::string_view::npos) {
    return Invalid(text, expected);
  }
  const size_t cut = colon != absl::string_view::npos ? colon : at;
  spec.ref.set_model(std::string(rest.substr(0, cut)));
  if (spec.ref.model().empty()) return Invalid(text, expected);
  if (colon != absl::string_view::npos) {
    absl::StatusOr<int64_t> number = ParseVersionNumber(rest.substr(colon + 1));
    if (!number.ok()) return Invalid(text, expected);
    spec.ref.set_version(*number);
  } else if (at != absl::string_view::npos) {
    if (at + 1 == rest.size()) return Invalid(text, expected);
    spec.ref.set_alias(std::string(rest.substr(at + 1)));
  }
  return spec;
}

bool IsSha256(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

absl::Status AddKeyValues(const std::vector<std::string>& items, absl::string_view flag,
                          google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == 0 || eq == std::string::npos) {
      return Invalid(item, absl::StrCat("--", flag, " KEY=VALUE"));
    }
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Metric> ParseMetric(absl::string_view text) {
  const size_t eq = text.find('=');
  v1::Metric metric;
  double value = 0;
  if (eq == 0 || eq == absl::string_view::npos || !absl::SimpleAtod(text.substr(eq + 1), &value)) {
    return Invalid(text, "NAME=VALUE, e.g. auc=0.91");
  }
  metric.set_name(absl::AsciiStrToLower(text.substr(0, eq)));
  metric.set_value(value);
  metric.set_split("validation");
  // Losses and errors shrink as a model improves; the rest (auc, accuracy, f1, r2...) grow.
  const std::string& name = metric.name();
  const bool lower_is_better = absl::StrContains(name, "loss") ||
                               absl::StrContains(name, "error") || name == "ece" ||
                               name == "rmse" || name == "mae" || name == "mse";
  metric.set_higher_is_better(!lower_is_better);
  return metric;
}

absl::StatusOr<v1::MetricThreshold> ParseMetricThreshold(absl::string_view text) {
  const size_t at = text.find_first_of("<>=");
  if (at == 0 || at == absl::string_view::npos) {
    return Invalid(text, "METRIC OP VALUE, e.g. auc>=0.8 (OP: >=, >, <=, <, ==)");
  }
  for (const auto& [op, value] : kOps) {
    if (!absl::StartsWith(text.substr(at), op)) continue;
    v1::MetricThreshold threshold;
    double number = 0;
    if (!absl::SimpleAtod(text.substr(at + op.size()), &number)) break;
    threshold.set_metric(absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(0, at))));
    threshold.set_op(value);
    threshold.set_value(number);
    return threshold;
  }
  return Invalid(text, "METRIC OP VALUE, e.g. auc>=0.8 (OP: >=, >, <=, <, ==)");
}

std::string ComparisonText(v1::ComparisonOp op) {
  for (const auto& [text, value] : kOps) {
    if (value == op) return std::string(text);
  }
  return "?";
}

absl::StatusOr<v1::Task> ParseTask(absl::string_view text) {
  return ParseEnum<v1::Task>(text, "TASK_", v1::Task_Parse,
                             {{"multiclass", v1::TASK_MULTICLASS_CLASSIFICATION}},
                             "binary_classification, multiclass or regression");
}

std::string TaskName(v1::Task task) {
  if (task == v1::TASK_MULTICLASS_CLASSIFICATION) return "multiclass";
  return ShortEnumName(v1::Task_Name(task), "TASK_");
}

absl::StatusOr<v1::ArtifactKind> ParseArtifactKind(absl::string_view text) {
  return ParseEnum<v1::ArtifactKind>(text, "ARTIFACT_KIND_", v1::ArtifactKind_Parse,
                                     {{"torchscript", v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE}},
                                     "torchscript_module, reference_profile, model_card or other");
}

std::string MediaTypeForPath(absl::string_view path) {
  static const std::pair<absl::string_view, absl::string_view> kTypes[] = {
      {".pt", "application/x-torchscript"}, {".ts", "application/x-torchscript"},
      {".pb", "application/x-protobuf"},    {".md", "text/markdown"},
      {".json", "application/json"},        {".txt", "text/plain"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (absl::EndsWithIgnoreCase(path, extension)) return std::string(type);
  }
  return "application/octet-stream";
}

std::string ShortEnumName(absl::string_view name, absl::string_view prefix) {
  absl::ConsumePrefix(&name, prefix);
  return absl::AsciiStrToLower(name);
}

}  // namespace fabrique::cli
