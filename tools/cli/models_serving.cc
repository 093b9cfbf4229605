// `fabrique models requests | traffic`: the review queue of promotion requests, and the traffic
// policy inference servers follow (canary share and shadow of the candidate alias).

#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

absl::StatusOr<v1::PromotionState> ParsePromotionState(const std::string& text) {
  if (text.empty() || text == "any") return v1::PROMOTION_STATE_UNSPECIFIED;
  v1::PromotionState state;
  if (!v1::PromotionState_Parse("PROMOTION_STATE_" + absl::AsciiStrToUpper(text), &state)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--state '", text,
                     "' is not one of pending, completed, refused, rejected, cancelled, "
                     "superseded, any"));
  }
  return state;
}

void PrintTraffic(const v1::TrafficPolicy& policy, std::ostream& out) {
  out << absl::StrFormat("%-14s %s\n", "model:", policy.model());
  out << absl::StrFormat("%-14s %s\n", "primary:", policy.primary_alias());
  out << absl::StrFormat("%-14s %s\n", "candidate:", policy.candidate_alias());
  out << absl::StrFormat(
      "%-14s %g%% of traffic to %s, routed %s\n", "canary:", policy.canary_percent(),
      policy.candidate_alias(),
      ShortEnumName(v1::CanaryRouting_Name(policy.canary_routing()), "CANARY_ROUTING_"));
  out << absl::StrFormat("%-14s %s\n", "shadow:",
                         policy.shadow() ? "on (the candidate also scores every request)" : "off");
  if (policy.has_update_time()) {
    out << absl::StrFormat("%-14s %s by %s\n", "updated:", FormatTimestamp(policy.update_time()),
                           FormatPrincipal(policy.updated_by()));
  }
}

// `--shadow` alone turns shadow on and `--noshadow` off, as boolean flags do; `--shadow on|off`
// keeps working.
std::vector<std::string> ShadowSwitch(const std::vector<std::string>& args) {
  std::vector<std::string> out = args;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == "--") break;
    const bool valued = i + 1 < out.size() && (out[i + 1] == "on" || out[i + 1] == "off");
    if (out[i] == "--shadow" && !valued) out[i] = "--shadow=on";
    if (out[i] == "--noshadow") out[i] = "--shadow=off";
  }
  return out;
}

}  // namespace

int RunModelsRequests(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string alias;
  std::string state = "pending";
  core::FlagSet flags("fabrique models requests",
                      "Lists promotion requests, oldest first: by default the pending ones, the "
                      "review queue of whoever approves. Follows every page.");
  flags.set_usage_args("[flags] [NAME]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("alias", &alias, "Only requests to move this alias; empty = any");
  flags.Add("state", &state,
            "pending, completed, refused, rejected, cancelled, superseded, or any");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "at most one NAME", &parsed)) return *code;
  absl::StatusOr<v1::PromotionState> wanted = ParsePromotionState(state);
  if (!wanted.ok()) return BadUsage(flags, wanted.status().message());
  v1::ListPromotionRequestsRequest request;
  if (!parsed.positional.empty()) request.set_model(parsed.positional[0]);
  request.set_alias(alias);
  request.set_state(*wanted);
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  int listed = 0;
  // Printed once every page has come: a failed call prints only the error.
  std::ostringstream table;
  table << absl::StrFormat("%-28s %-26s %-8s %-11s %-22s %s\n", "ID", "ALIAS", "VERSION", "STATE",
                           "REQUESTED", "BY");
  const absl::Status status = client->CallPages(
      &RegistryStub::ListPromotionRequests, request, "ListPromotionRequests",
      [&](const v1::ListPromotionRequestsResponse& page) {
        for (const v1::PromotionRequest& r : page.requests()) {
          ++listed;
          table << absl::StrFormat(
              "%-28s %-26s %-8d %-11s %-22s %s\n", r.id(), absl::StrCat(r.model(), "@", r.alias()),
              r.version(), ShortEnumName(v1::PromotionState_Name(r.state()), "PROMOTION_STATE_"),
              FormatTimestamp(r.create_time()), FormatPrincipal(r.requested_by()));
        }
      });
  if (!status.ok()) return Fail(flags.program(), status);
  std::cout << table.str();
  if (listed == 0) std::cout << "(none)\n";
  return 0;
}

int RunModelsTraffic(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string canary;
  std::string shadow;
  std::string primary;
  std::string candidate;
  std::string routing;
  core::FlagSet flags(
      "fabrique models traffic",
      "Shows the traffic policy of NAME, or changes it with any of the flags below: the share of "
      "requests the candidate alias answers (a canary) and whether it also scores every request "
      "without answering (shadow). Inference servers follow it through the registry's watch. "
      "Flags not given keep their current value.");
  flags.set_usage_args("[flags] NAME");
  AddRegistryFlags(&flags, &registry);
  flags.Add("canary", &canary, "Percent of traffic answered by the candidate, 0 to 100");
  flags.Add("shadow", &shadow,
            "Shadow the candidate (it also scores every request, never answering): --shadow or "
            "--shadow on; --noshadow or --shadow off");
  flags.Add("primary", &primary, "Alias that serves by default (default production)");
  flags.Add("candidate", &candidate, "Alias of the canary and the shadow (default candidate)");
  flags.Add("routing", &routing,
            "entity (by a hash of the entity key: an entity always sees the same version; also "
            "entity_hash) or random (per request)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, ShadowSwitch(args), 1, 1, "one NAME", &parsed)) {
    return *code;
  }
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::GetTrafficPolicyRequest get;
  get.set_model(parsed.positional[0]);
  absl::StatusOr<v1::TrafficPolicy> policy =
      client->Call(&RegistryStub::GetTrafficPolicy, get, "GetTrafficPolicy " + get.model());
  if (!policy.ok()) return Fail(flags.program(), policy.status());
  const bool change = !canary.empty() || !shadow.empty() || !primary.empty() ||
                      !candidate.empty() || !routing.empty();
  if (change) {
    if (!canary.empty()) {
      double percent = 0;
      if (!absl::SimpleAtod(canary, &percent)) {
        return BadUsage(flags, absl::StrCat("--canary '", canary, "' is not a number"));
      }
      policy->set_canary_percent(percent);
    }
    if (shadow == "on" || shadow == "off") {
      policy->set_shadow(shadow == "on");
    } else if (!shadow.empty()) {
      return BadUsage(flags, absl::StrCat("--shadow '", shadow, "' is not on or off"));
    }
    if (!primary.empty()) policy->set_primary_alias(primary);
    if (!candidate.empty()) policy->set_candidate_alias(candidate);
    if (routing == "entity" || routing == "entity_hash") {
      policy->set_canary_routing(v1::CANARY_ROUTING_ENTITY_HASH);
    } else if (routing == "random") {
      policy->set_canary_routing(v1::CANARY_ROUTING_RANDOM);
    } else if (!routing.empty()) {
      return BadUsage(flags, absl::StrCat("--routing '", routing, "' is not entity or random"));
    }
    v1::SetTrafficPolicyRequest set;
    *set.mutable_policy() = *policy;
    policy = client->Call(&RegistryStub::SetTrafficPolicy, set, "SetTrafficPolicy " + get.model());
    if (!policy.ok()) return Fail(flags.program(), policy.status());
  }
  PrintTraffic(*policy, std::cout);
  return 0;
}

}  // namespace fabrique::cli
