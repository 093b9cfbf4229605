// `fabrique models evaluate`: appends an evaluation to a registered version (a capacity test's
// latency, a fairness review): the version stays as registered, the evaluation is kept beside it
// with who made it and when, audited, and read by promotion gates and standards.

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

void PrintEvaluation(const v1::VersionEvaluation& evaluation, std::ostream& out) {
  std::vector<std::string> metrics;
  for (const v1::Metric& metric : evaluation.metrics()) {
    metrics.push_back(absl::StrCat(metric.name(), "=", metric.value()));
  }
  std::vector<std::string> params;
  for (const auto& [key, value] : evaluation.params()) params.push_back(key + "=" + value);
  std::sort(params.begin(), params.end());
  out << absl::StrFormat("  %-12s %s  by %s at %s\n", evaluation.kind(),
                         metrics.empty() ? "-" : absl::StrJoin(metrics, " "),
                         FormatPrincipal(evaluation.evaluated_by()),
                         FormatTimestamp(evaluation.create_time()));
  if (!params.empty()) out << "               params: " << absl::StrJoin(params, " ") << "\n";
  if (!evaluation.note().empty()) out << "               note: " << evaluation.note() << "\n";
}

}  // namespace

void PrintEvaluations(const v1::ModelVersion& version, std::ostream& out) {
  if (version.evaluations().empty()) return;
  out << "evaluations:\n";
  for (const v1::VersionEvaluation& evaluation : version.evaluations()) {
    PrintEvaluation(evaluation, out);
  }
}

int RunModelsEvaluate(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string kind;
  std::vector<std::string> metrics;
  std::vector<std::string> params;
  std::string note;
  core::FlagSet flags(
      "fabrique models evaluate",
      "Appends an evaluation to version VERSION of MODEL, e.g. a capacity test: --kind capacity "
      "--metric serving_p99_ms=4.2. The version itself does not change; the evaluation is kept "
      "with who made it and when, and audited. Promotion gates and standards read a metric's "
      "latest evaluated value (so a policy can gate on serving_p99_ms<=5), and standards may "
      "require an evaluation of a kind. Prints every evaluation of the version. Needs "
      "models.evaluate in the model's squad.");
  flags.set_usage_args("MODEL VERSION --kind KIND [--metric NAME=VALUE ...] [flags]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("kind", &kind, "What was evaluated: a-z, 0-9, _ or -, e.g. capacity");
  flags.Add("metric", &metrics, "NAME=VALUE measured, repeatable");
  flags.Add("param", &params, "KEY=VALUE saying how it was run, repeatable");
  flags.Add("note", &note, "Free text");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "MODEL VERSION", &parsed)) return *code;
  if (kind.empty()) return BadUsage(flags, "--kind is required, e.g. --kind capacity");
  absl::StatusOr<int64_t> number = ParseVersionNumber(parsed.positional[1]);
  if (!number.ok()) return BadUsage(flags, number.status().message());
  v1::AppendEvaluationRequest request;
  request.mutable_version()->set_model(parsed.positional[0]);
  request.mutable_version()->set_version(*number);
  v1::VersionEvaluation* evaluation = request.mutable_evaluation();
  evaluation->set_kind(kind);
  evaluation->set_note(note);
  for (const std::string& text : metrics) {
    absl::StatusOr<v1::Metric> metric = ParseMetric(text);
    if (!metric.ok()) return BadUsage(flags, metric.status().message());
    metric->clear_split();  // Measured on live serving, not a data split.
    *evaluation->add_metrics() = *metric;
  }
  if (absl::Status s = AddKeyValues(params, "param", evaluation->mutable_params()); !s.ok()) {
    return BadUsage(flags, s.message());
  }
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  const std::string what = absl::StrCat(parsed.positional[0], ":", *number);
  absl::StatusOr<v1::ModelVersion> version =
      client->Call(&RegistryStub::AppendEvaluation, request, "AppendEvaluation " + what);
  if (!version.ok()) return Fail(flags.program(), version.status());
  std::cout << "evaluated " << what << " (" << kind << ")\n";
  PrintEvaluations(*version, std::cout);
  return 0;
}

}  // namespace fabrique::cli
