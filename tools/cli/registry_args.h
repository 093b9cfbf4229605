#ifndef FABRIQUE_TOOLS_CLI_REGISTRY_ARGS_H_
#define FABRIQUE_TOOLS_CLI_REGISTRY_ARGS_H_

// The short text forms `fabrique models` reads from its command line, turned into the
// registry's messages: version references (fraud:3, fraud@production, fraud:3/model), key=value
// pairs, metrics (auc=0.91) and thresholds (auc>=0.8), tasks and artifact kinds. Every error is
// INVALID_ARGUMENT saying what was expected, for the command to print with exit code 2.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/registry.pb.h"
#include "google/protobuf/map.h"

namespace fabrique::cli {

// A version as a user names it, and optionally one of its artifacts.
struct VersionSpec {
  v1::ModelRef ref;      // A number, an alias, or neither (the latest).
  std::string artifact;  // Set by "/NAME" where artifacts are allowed; "" = not given.
};

// Reads "NAME", "NAME:VERSION" or "NAME@ALIAS", then "/ARTIFACT" if `allow_artifact`.
absl::StatusOr<VersionSpec> ParseVersionSpec(absl::string_view text, bool allow_artifact);

// A version number, >= 1.
absl::StatusOr<int64_t> ParseVersionNumber(absl::string_view text);

// Whether `text` is a hex SHA-256 (64 hex digits), as artifacts are addressed.
bool IsSha256(absl::string_view text);

// Adds each "key=value" of `items` to `out`; `flag` names the flag in errors.
absl::Status AddKeyValues(const std::vector<std::string>& items, absl::string_view flag,
                          google::protobuf::Map<std::string, std::string>* out);

// "auc=0.91": a metric on the validation split, higher_is_better guessed from its name (loss and
// error metrics are lower-is-better).
absl::StatusOr<v1::Metric> ParseMetric(absl::string_view text);

// "auc>=0.8" (also >, <, <=, ==).
absl::StatusOr<v1::MetricThreshold> ParseMetricThreshold(absl::string_view text);

// ">=" for COMPARISON_OP_GREATER_OR_EQUAL...; "?" when unspecified.
std::string ComparisonText(v1::ComparisonOp op);

// binary_classification, multiclass (or multiclass_classification), regression.
absl::StatusOr<v1::Task> ParseTask(absl::string_view text);
std::string TaskName(v1::Task task);

// torchscript_module, reference_profile, model_card, other.
absl::StatusOr<v1::ArtifactKind> ParseArtifactKind(absl::string_view text);

// "application/x-torchscript" for .pt, "text/markdown" for .md...; "application/octet-stream"
// when the extension says nothing.
std::string MediaTypeForPath(absl::string_view path);

// Lower-case enum value name without its prefix: ("VERSION_STATE_ACTIVE", "VERSION_STATE_") ->
// "active".
std::string ShortEnumName(absl::string_view name, absl::string_view prefix);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_REGISTRY_ARGS_H_
