// `fabrique models promote | approve | reject | promotion | policy`: governed promotion. A
// request is evaluated against the alias's policy; every gate is printed with whether it holds
// and why. A refused request exits 1 with the server's explanation of each failed gate.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "libs/core/ids.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/json_file.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

// approve and reject: one decision on a pending request, then the request as it stands.
int Decide(const std::vector<std::string>& args, bool approve) {
  RegistryFlags registry;
  std::string comment;
  core::FlagSet flags(
      approve ? "fabrique models approve" : "fabrique models reject",
      approve ? "Approves a pending promotion request. It takes one of the roles of the policy's "
                "approval gates (--roles); the requester's own approval counts only where the "
                "gate allows it. The approval that makes every gate hold moves the alias."
              : "Rejects a pending promotion request (one of the approval gates' roles): it is "
                "closed and the alias stays. The requester, without such a role, withdraws it "
                "instead: cancelled.");
  flags.set_usage_args("[flags] REQUEST_ID");
  AddRegistryFlags(&flags, &registry);
  flags.Add("comment", &comment, "Why");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one REQUEST_ID", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<v1::PromotionRequest> decided;
  const std::string& id = parsed.positional[0];
  if (approve) {
    v1::ApprovePromotionRequest request;
    request.set_id(id);
    request.set_comment(comment);
    decided = client->Call(&RegistryStub::ApprovePromotion, request, "ApprovePromotion " + id);
  } else {
    v1::RejectPromotionRequest request;
    request.set_id(id);
    request.set_comment(comment);
    decided = client->Call(&RegistryStub::RejectPromotion, request, "RejectPromotion " + id);
  }
  if (!decided.ok()) return Fail(flags.program(), decided.status());
  PrintPromotion(*decided, std::cout);
  return 0;
}

}  // namespace

int RunModelsPromote(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string alias;
  std::string comment;
  bool dry_run = false;
  core::FlagSet flags(
      "fabrique models promote",
      "Asks to move ALIAS of NAME to VERSION. Every gate of the alias's policy is evaluated and "
      "printed: when all hold the alias moves (completed); when approvals are missing the request "
      "waits (pending: reviewers run 'fabrique models approve ID'); when an automatic gate fails "
      "it is refused, with the reason for each failed gate.");
  flags.set_usage_args("[flags] NAME VERSION --alias ALIAS");
  AddRegistryFlags(&flags, &registry);
  flags.Add("alias", &alias, "Alias to move, e.g. production (required)");
  flags.Add("comment", &comment, "Why, for the reviewers and the audit trail");
  flags.Add("dry_run", &dry_run, "Evaluate the gates; store nothing, move nothing");
  std::string request_id;
  flags.Add("request_id", &request_id,
            "Idempotency key: run again with the same key and you get the request the first run "
            "made, as it stands now. Default: a new key each run");
  flags.set_epilog("Exit codes: 0 completed or pending, 1 refused or failed, 2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "NAME VERSION", &parsed)) return *code;
  if (alias.empty()) return BadUsage(flags, "--alias is required");
  absl::StatusOr<int64_t> number = ParseVersionNumber(parsed.positional[1]);
  if (!number.ok()) return BadUsage(flags, number.status().message());
  v1::RequestPromotionRequest request;
  request.set_model(parsed.positional[0]);
  request.set_alias(alias);
  request.set_version(*number);
  request.set_comment(comment);
  request.set_dry_run(dry_run);
  request.set_request_id(request_id.empty() ? core::IdGenerator::Default().Next() : request_id);
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<v1::PromotionRequest> promotion = client->CallIdempotent(
      &RegistryStub::RequestPromotion, request,
      absl::StrCat("RequestPromotion ", request.model(), "@", alias, " -> ", request.version()));
  // Refused: FAILED_PRECONDITION, whose message is the server's account of each failed gate.
  if (!promotion.ok()) return Fail(flags.program(), promotion.status());
  // A dry run's id names nothing stored.
  if (dry_run) promotion->clear_id();
  PrintPromotion(*promotion, std::cout);
  return 0;
}

int RunModelsApprove(const std::vector<std::string>& args) { return Decide(args, true); }
int RunModelsReject(const std::vector<std::string>& args) { return Decide(args, false); }

int RunModelsPromotion(const std::vector<std::string>& args) {
  RegistryFlags registry;
  core::FlagSet flags("fabrique models promotion",
                      "Shows a promotion request: state, each gate with why, and the decisions.");
  flags.set_usage_args("[flags] REQUEST_ID");
  AddRegistryFlags(&flags, &registry);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one REQUEST_ID", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::GetPromotionRequestRequest request;
  request.set_id(parsed.positional[0]);
  absl::StatusOr<v1::PromotionRequest> promotion = client->Call(
      &RegistryStub::GetPromotionRequest, request, "GetPromotionRequest " + request.id());
  if (!promotion.ok()) return Fail(flags.program(), promotion.status());
  PrintPromotion(*promotion, std::cout);
  return 0;
}

int RunModelsPolicy(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string file;
  core::FlagSet flags(
      "fabrique models policy",
      "Shows the promotion policy of ALIAS of NAME, or sets it from a PromotionPolicy in "
      "protobuf JSON, e.g. {\"metricGates\": [{\"metric\": \"auc\", \"op\": "
      "\"COMPARISON_OP_GREATER_OR_EQUAL\", \"value\": 0.8}], \"approvalGates\": [{\"role\": "
      "\"design-authority\", \"requiredApprovals\": 1}]} (model and alias come from the "
      "arguments).");
  flags.set_usage_args("[flags] NAME ALIAS");
  AddRegistryFlags(&flags, &registry);
  flags.Add("set", &file, "FILE.json: set the policy to this one (replacing it whole)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "NAME ALIAS", &parsed)) return *code;
  const std::string& model = parsed.positional[0];
  const std::string& alias = parsed.positional[1];
  v1::SetPromotionPolicyRequest set;
  if (!file.empty()) {
    if (absl::Status read = ReadJsonFile(file, set.mutable_policy()); !read.ok()) {
      return BadInput(flags.program(), read);
    }
  }
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<v1::PromotionPolicy> policy;
  const std::string what = absl::StrCat(model, "@", alias);
  if (file.empty()) {
    v1::GetPromotionPolicyRequest get;
    get.set_model(model);
    get.set_alias(alias);
    policy = client->Call(&RegistryStub::GetPromotionPolicy, get, "GetPromotionPolicy " + what);
  } else {
    set.mutable_policy()->set_model(model);
    set.mutable_policy()->set_alias(alias);
    policy = client->Call(&RegistryStub::SetPromotionPolicy, set, "SetPromotionPolicy " + what);
    if (policy.ok()) {
      // Read back: the answer to a read says how the design authority's standards combine
      // with the policy just set (a gate weaker than a standard's has no effect).
      v1::GetPromotionPolicyRequest get;
      get.set_model(model);
      get.set_alias(alias);
      policy = client->Call(&RegistryStub::GetPromotionPolicy, get, "GetPromotionPolicy " + what);
    }
  }
  if (!policy.ok()) return Fail(flags.program(), policy.status());
  PrintPolicy(*policy, std::cout);
  for (const std::string& note : policy->standard_notes()) {
    std::cout << "standard note: " << note << "\n";
  }
  return 0;
}

}  // namespace fabrique::cli
