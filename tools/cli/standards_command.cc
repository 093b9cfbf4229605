// `fabrique standards`: the design authority's standards: rules every promotion to an alias must
// meet (metric thresholds, margins over the trivial baseline, required artifacts and evaluation
// kinds), for the whole factory or for the models of one entity, besides each model's own policy.

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/empty.pb.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/json_file.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

constexpr char kDescription[] =
    "The design authority's standards: rules every promotion to an alias (default production)\n"
    "must meet, for the whole factory or for the models of one entity (a model's --entity),\n"
    "checked besides the model's own promotion policy; the stricter rule decides. Setting and\n"
    "deleting one needs standards.write in every squad (bind *:design-authority); anyone who\n"
    "reads models may read them. Exit codes: 0 success, 1 failure, 2 bad usage.";

// "auc>=baseline+0.05" (also "log_loss<=baseline-0.1", "auc>baseline").
absl::StatusOr<v1::BaselineThreshold> ParseBaselineThreshold(absl::string_view text) {
  const absl::Status invalid = absl::InvalidArgumentError(absl::StrCat(
      "--baseline '", text, "': expected METRIC OP baseline[+|-MARGIN], e.g. auc>=baseline+0.05"));
  const size_t at = text.find("baseline");
  if (at == absl::string_view::npos) return invalid;
  absl::StatusOr<v1::MetricThreshold> left =
      ParseMetricThreshold(absl::StrCat(text.substr(0, at), "0"));
  if (!left.ok()) return invalid;
  absl::string_view rest = absl::StripAsciiWhitespace(text.substr(at + 8));
  double margin = 0;
  if (!rest.empty()) {
    const bool negative = rest[0] == '-';
    if (rest[0] != '+' && !negative) return invalid;
    if (!absl::SimpleAtod(rest.substr(1), &margin)) return invalid;
    margin = negative ? -margin : margin;
  }
  v1::BaselineThreshold threshold;
  threshold.set_metric(left->metric());
  threshold.set_op(left->op());
  threshold.set_margin(margin);
  return threshold;
}

void PrintStandard(const v1::Standard& s, std::ostream& out) {
  out << absl::StrFormat("%-13s %s\n", "standard:", s.name());
  out << absl::StrFormat("%-13s %s\n",
                         "scope:", s.entity().empty() ? "factory-wide" : "entity " + s.entity());
  out << absl::StrFormat("%-13s %s\n", "alias:", s.alias().empty() ? "production" : s.alias());
  for (const v1::MetricThreshold& t : s.metric_gates()) {
    out << absl::StrFormat("%-13s %s %s %g\n", "metric:", t.metric(), ComparisonText(t.op()),
                           t.value());
  }
  for (const v1::BaselineThreshold& t : s.baseline_gates()) {
    out << absl::StrFormat("%-13s %s %s baseline %s %g\n", "baseline:", t.metric(),
                           ComparisonText(t.op()), t.margin() < 0 ? "-" : "+",
                           t.margin() < 0 ? -t.margin() : t.margin());
  }
  for (int kind : s.required_artifacts()) {
    out << absl::StrFormat("%-13s %s\n", "artifact:",
                           ShortEnumName(v1::ArtifactKind_Name(static_cast<v1::ArtifactKind>(kind)),
                                         "ARTIFACT_KIND_"));
  }
  for (const std::string& kind : s.required_evaluations()) {
    out << absl::StrFormat("%-13s %s\n", "evaluation:", kind);
  }
  if (!s.description().empty())
    out << absl::StrFormat("%-13s %s\n", "description:", s.description());
  out << absl::StrFormat("%-13s %s by %s\n", "updated:", FormatTimestamp(s.update_time()),
                         FormatPrincipal(s.updated_by()));
}

// The standard the flags of `set` describe (or --file), or the usage error to print.
struct SetFlags {
  std::string file;
  std::string entity;
  std::string alias;
  std::vector<std::string> metrics;
  std::vector<std::string> baselines;
  std::vector<std::string> artifacts;
  std::vector<std::string> evaluations;
  std::string description;
};

absl::StatusOr<v1::Standard> StandardFromFlags(const std::string& name, const SetFlags& f) {
  v1::Standard standard;
  if (!f.file.empty()) {
    if (absl::Status read = ReadJsonFile(f.file, &standard); !read.ok()) return read;
  }
  standard.set_name(name);
  if (!f.entity.empty()) standard.set_entity(f.entity);
  if (!f.alias.empty()) standard.set_alias(f.alias);
  if (!f.description.empty()) standard.set_description(f.description);
  for (const std::string& text : f.metrics) {
    absl::StatusOr<v1::MetricThreshold> threshold = ParseMetricThreshold(text);
    if (!threshold.ok()) return threshold.status();
    *standard.add_metric_gates() = *threshold;
  }
  for (const std::string& text : f.baselines) {
    absl::StatusOr<v1::BaselineThreshold> threshold = ParseBaselineThreshold(text);
    if (!threshold.ok()) return threshold.status();
    *standard.add_baseline_gates() = *threshold;
  }
  for (const std::string& text : f.artifacts) {
    absl::StatusOr<v1::ArtifactKind> kind = ParseArtifactKind(text);
    if (!kind.ok()) return kind.status();
    standard.add_required_artifacts(*kind);
  }
  for (const std::string& kind : f.evaluations) standard.add_required_evaluations(kind);
  return standard;
}

int RunStandardsSet(const std::vector<std::string>& args) {
  RegistryFlags registry;
  SetFlags f;
  core::FlagSet flags("fabrique standards set",
                      "Sets standard NAME (replacing one of that name): the rules every promotion "
                      "to --alias must meet, factory-wide or for the models of --entity. Give the "
                      "rules as flags, or as a fabrique.v1.Standard in JSON with --file (flags "
                      "add to it). Audited.");
  flags.set_usage_args("NAME [--entity E] [--alias A] RULES... [flags]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("file", &f.file, "STANDARD.json: a fabrique.v1.Standard in protobuf JSON");
  flags.Add("entity", &f.entity, "Scope: the models of this entity; empty = the whole factory");
  flags.Add("alias", &f.alias, "Alias it governs; empty = production");
  flags.Add("metric", &f.metrics, "METRIC OP VALUE the candidate must meet, e.g. auc>=0.8");
  flags.Add("baseline", &f.baselines,
            "METRIC OP baseline+MARGIN, e.g. auc>=baseline+0.05 (the metric's trivial baseline)");
  flags.Add("require_artifact", &f.artifacts,
            "Artifact kind the candidate must carry: model_card, reference_profile, ...");
  flags.Add("require_evaluation", &f.evaluations,
            "Evaluation kind the candidate must have (fabrique models evaluate), e.g. capacity");
  flags.Add("description", &f.description, "Why the standard exists");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one NAME", &parsed)) return *code;
  absl::StatusOr<v1::Standard> standard = StandardFromFlags(parsed.positional[0], f);
  if (!standard.ok()) return BadUsage(flags, standard.status().message());
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::SetStandardRequest request;
  *request.mutable_standard() = *std::move(standard);
  absl::StatusOr<v1::Standard> set =
      client->Call(&RegistryStub::SetStandard, request, "SetStandard " + parsed.positional[0]);
  if (!set.ok()) return Fail(flags.program(), set.status());
  PrintStandard(*set, std::cout);
  return 0;
}

int RunStandardsGet(const std::vector<std::string>& args) {
  RegistryFlags registry;
  core::FlagSet flags("fabrique standards get", "Shows standard NAME and its rules.");
  flags.set_usage_args("NAME [flags]");
  AddRegistryFlags(&flags, &registry);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one NAME", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::GetStandardRequest request;
  request.set_name(parsed.positional[0]);
  absl::StatusOr<v1::Standard> standard =
      client->Call(&RegistryStub::GetStandard, request, "GetStandard " + request.name());
  if (!standard.ok()) return Fail(flags.program(), standard.status());
  PrintStandard(*standard, std::cout);
  return 0;
}

int RunStandardsList(const std::vector<std::string>& args) {
  RegistryFlags registry;
  v1::ListStandardsRequest request;
  core::FlagSet flags("fabrique standards list", "Lists standards by name, with their rules.");
  AddRegistryFlags(&flags, &registry);
  flags.Add("entity", request.mutable_entity(),
            "Only those of this entity; * = only factory-wide ones; empty = all");
  flags.Add("alias", request.mutable_alias(), "Only those governing this alias; empty = all");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<v1::ListStandardsResponse> listed =
      client->Call(&RegistryStub::ListStandards, request, "ListStandards");
  if (!listed.ok()) return Fail(flags.program(), listed.status());
  if (listed->standards().empty()) std::cout << "(none)\n";
  for (int i = 0; i < listed->standards_size(); ++i) {
    if (i > 0) std::cout << "\n";
    PrintStandard(listed->standards(i), std::cout);
  }
  return 0;
}

int RunStandardsDelete(const std::vector<std::string>& args) {
  RegistryFlags registry;
  v1::DeleteStandardRequest request;
  core::FlagSet flags("fabrique standards delete",
                      "Deletes standard NAME: promotions no longer check it. Audited.");
  flags.set_usage_args("NAME [--reason TEXT] [flags]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("reason", request.mutable_reason(), "Why, recorded in the audit trail");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one NAME", &parsed)) return *code;
  request.set_name(parsed.positional[0]);
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<google::protobuf::Empty> deleted =
      client->Call(&RegistryStub::DeleteStandard, request, "DeleteStandard " + request.name());
  if (!deleted.ok()) return Fail(flags.program(), deleted.status());
  std::cout << "deleted standard " << request.name() << "\n";
  return 0;
}

}  // namespace

int RunStandards(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"set", "set NAME RULES...", "Set a standard (--metric, --baseline, --require_*)",
       RunStandardsSet},
      {"get", "get NAME", "Show a standard", RunStandardsGet},
      {"list", "list", "List standards (--entity, --alias)", RunStandardsList},
      {"delete", "delete NAME", "Delete a standard", RunStandardsDelete},
  };
  return RunSubcommand("fabrique standards", kDescription, kSubcommands, args);
}

}  // namespace fabrique::cli
