// `fabrique predict MODEL --entity KEY[,KEY...]`: scores entities with a served model through an
// inference server's EntityInference.Predict; the server reads their features from the feature
// store, applies the model's traffic policy and logs the predictions.

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

// --feature GROUP:FEATURE=VALUE (or NAME=VALUE for a request-time input), the same value for
// every row: a number is sent as a float, anything else as text.
absl::StatusOr<v1::FeatureColumn> SuppliedFeature(const std::string& text, int rows) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--feature '", text, "' is not GROUP:FEATURE=VALUE or NAME=VALUE"));
  }
  const std::string name = text.substr(0, equals);
  const std::string value = text.substr(equals + 1);
  v1::FeatureColumn column;
  const size_t colon = name.find(':');
  if (colon == std::string::npos) {
    column.mutable_feature()->set_feature(name);
  } else {
    column.mutable_feature()->set_group(name.substr(0, colon));
    column.mutable_feature()->set_feature(name.substr(colon + 1));
  }
  float number = 0;
  const bool numeric = absl::SimpleAtof(value, &number);
  for (int row = 0; row < rows; ++row) {
    if (numeric) {
      column.mutable_values()->mutable_float_values()->add_values(number);
    } else {
      column.mutable_values()->mutable_string_values()->add_values(value);
    }
  }
  return column;
}

// "customer:city MISSING, ..." for a row's feature issues; "-" when none.
std::string Issues(const v1::EntityPrediction& prediction) {
  if (prediction.feature_issues().empty()) return "-";
  return absl::StrJoin(
      prediction.feature_issues(), ", ", [](std::string* out, const v1::FeatureIssue& issue) {
        const std::string status = v1::ValueStatus_Name(issue.status());
        absl::StrAppend(out, issue.feature().group(), ":", issue.feature().feature(), " ",
                        status.substr(status.rfind('_') + 1));
      });
}

// "probability=0.82" per output, values joined with "/" when an output has several.
std::string Outputs(const v1::EntityPrediction& prediction) {
  return absl::StrJoin(prediction.outputs(), " ", [](std::string* out, const v1::ModelOutput& o) {
    absl::StrAppend(out, o.name(), "=",
                    absl::StrJoin(o.values(), "/", [](std::string* v, float value) {
                      absl::StrAppend(v, absl::StrFormat("%.6g", value));
                    }));
  });
}

void PrintPredictions(const v1::PredictRequest& request, const v1::PredictResponse& response) {
  std::cout << absl::StrFormat("%-4s %-20s %-8s %-12s %-6s %-12s %-30s %s\n", "ROW", "ENTITY",
                               "VERSION", "ALIAS", "CANARY", "LABEL", "OUTPUTS", "MISSING/EXPIRED");
  for (const v1::EntityPrediction& p : response.predictions()) {
    const std::string entity = absl::StrJoin(request.entity_keys(), "|",
                                             [&p](std::string* out, const v1::EntityKeys& keys) {
                                               if (p.row() < keys.keys_size())
                                                 absl::StrAppend(out, keys.keys(p.row()));
                                             });
    std::cout << absl::StrFormat(
        "%-4d %-20s %-8d %-12s %-6s %-12s %-30s %s\n", p.row(), entity, p.served_by().version(),
        p.served_alias().empty() ? "-" : p.served_alias(), p.canary() ? "yes" : "no",
        p.predicted_label().empty() ? "-" : p.predicted_label(), Outputs(p), Issues(p));
  }
}

}  // namespace

int RunPredict(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string entity;
  std::string entity_name;
  std::vector<std::string> features;
  int64_t version = 0;
  std::string alias;
  bool json = false;
  core::FlagSet flags(
      "fabrique predict",
      "Scores entities with a served model: the inference server reads the model's features "
      "for each entity from the feature store, scores one row per key and logs the predictions. "
      "Without --version or --alias the model's traffic policy decides (its canary share by "
      "entity, so an entity always meets the same version).");
  flags.set_usage_args("[flags] MODEL");
  AddConnectionFlags(&flags, &connection, "inference", "the inference server (fabrique-inference)");
  flags.Add("entity", &entity, "Comma list of entity keys, one row each (required)");
  flags.Add("entity_name", &entity_name,
            "The entity the keys are of, e.g. customer; \"\" when the model uses one entity");
  flags.Add("feature", &features,
            "GROUP:FEATURE=VALUE overriding a store feature, or NAME=VALUE for a request-time "
            "input, the same for every row (repeatable)");
  flags.Add("version", &version, "Score with this version; 0 = the traffic policy");
  flags.Add("alias", &alias, "Score with the version under this alias; \"\" = the traffic policy");
  flags.Add("json", &json, "Print the response as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one MODEL", &parsed)) return *code;
  if (entity.empty()) return BadUsage(flags, "--entity is required: the keys to score");
  if (version < 0) return BadUsage(flags, "--version must be 1 or more");
  if (version > 0 && !alias.empty()) return BadUsage(flags, "give --version or --alias, not both");
  v1::PredictRequest request;
  request.mutable_model()->set_model(parsed.positional[0]);
  if (version > 0) request.mutable_model()->set_version(version);
  if (!alias.empty()) request.mutable_model()->set_alias(alias);
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity(entity_name);
  for (absl::string_view key : absl::StrSplit(entity, ',')) keys->add_keys(std::string(key));
  for (const std::string& feature : features) {
    absl::StatusOr<v1::FeatureColumn> column = SuppliedFeature(feature, keys->keys_size());
    if (!column.ok()) return BadUsage(flags, column.status().message());
    *request.add_supplied_features() = *std::move(column);
  }
  absl::StatusOr<client::EntityInferenceClient> inference =
      ConnectClient<client::EntityInferenceClient>(connection, "inference");
  if (!inference.ok()) return Fail(flags.program(), inference.status());
  absl::StatusOr<v1::PredictResponse> response = inference->Call(
      &client::EntityInferenceClient::Stub::Predict, request, "Predict " + parsed.positional[0]);
  if (!response.ok()) return Fail(flags.program(), response.status());
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*response, &text, options);
    std::cout << text;
    return 0;
  }
  PrintPredictions(request, *response);
  return 0;
}

}  // namespace fabrique::cli
