// `fabrique serving`: what an inference server serves (EntityInference.ListServedModels): every
// model with its versions, their states and failure reasons, and the traffic policy in force.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

// "production -> 3, candidate -> 4 (canary 10% by entity_hash, shadow off)".
std::string PolicyLine(const v1::ServedModel& model) {
  const v1::TrafficPolicy& policy = model.traffic_policy();
  const auto version = [](int64_t number) {
    return number > 0 ? absl::StrCat(number) : std::string("none");
  };
  return absl::StrFormat("%s -> %s, %s -> %s (canary %g%% by %s, shadow %s)",
                         policy.primary_alias(), version(model.primary_version()),
                         policy.candidate_alias(), version(model.candidate_version()),
                         policy.canary_percent(),
                         absl::AsciiStrToLower(ShortEnumName(
                             v1::CanaryRouting_Name(policy.canary_routing()), "CANARY_ROUTING_")),
                         policy.shadow() ? "on" : "off");
}

void PrintModel(const v1::ServedModel& model) {
  std::cout << "model " << model.name() << "\n  traffic: " << PolicyLine(model) << "\n";
  std::cout << absl::StrFormat("  %-8s %-24s %-10s %-8s %-22s %s\n", "VERSION", "ALIASES", "STATE",
                               "DEVICE", "LOADED", "FAILURE");
  for (const v1::ServedVersion& version : model.versions()) {
    const std::string aliases = absl::StrJoin(version.aliases(), ",");
    std::cout << absl::StrFormat(
        "  %-8d %-24s %-10s %-8s %-22s %s\n", version.version(), aliases.empty() ? "-" : aliases,
        ShortEnumName(v1::ServedVersionState_Name(version.state()), "SERVED_VERSION_STATE_"),
        version.device().empty() ? "-" : version.device(),
        version.has_load_time() ? FormatTimestamp(version.load_time()) : "-",
        version.failure_reason().empty() ? "-" : version.failure_reason());
  }
}

}  // namespace

int RunServing(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags(
      "fabrique serving",
      "Lists what an inference server serves: every model with its versions, their states "
      "(LOADING, READY, FAILED with the reason, UNLOADING), the traffic policy in force and the "
      "registry revision the server follows.");
  AddConnectionFlags(&flags, &connection, "inference", "the inference server (fabrique-inference)");
  flags.Add("json", &json, "Print the response as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "no arguments", &parsed)) return *code;
  absl::StatusOr<client::EntityInferenceClient> inference =
      ConnectClient<client::EntityInferenceClient>(connection, "inference");
  if (!inference.ok()) return Fail(flags.program(), inference.status());
  absl::StatusOr<v1::ListServedModelsResponse> served =
      inference->Call(&client::EntityInferenceClient::Stub::ListServedModels,
                      v1::ListServedModelsRequest(), "ListServedModels");
  if (!served.ok()) return Fail(flags.program(), served.status());
  if (json) {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*served, &text, options);
    std::cout << text;
    return 0;
  }
  std::cout << "registry revision " << served->registry_revision() << " ("
            << (served->registry_connected() ? "connected" : "not connected") << ")\n";
  for (const v1::ServedModel& model : served->models()) PrintModel(model);
  if (served->models().empty()) std::cout << "(no models served)\n";
  return 0;
}

}  // namespace fabrique::cli
