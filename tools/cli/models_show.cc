// `fabrique models show` and `fabrique models versions`: reading models and versions.

#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

// Fills `version`'s aliases from `model`'s alias map when the server left them out: the
// registry does not fill ModelVersion.aliases (output only) yet, while Model.aliases is kept.
void AddAliases(const v1::Model& model, v1::ModelVersion* version) {
  if (!version->aliases().empty()) return;
  const std::map<std::string, int64_t> sorted(model.aliases().begin(), model.aliases().end());
  for (const auto& [alias, number] : sorted) {
    if (number == version->version()) version->add_aliases(alias);
  }
}

// The models versions belong to, each read once.
class ModelCache {
 public:
  explicit ModelCache(const RegistryClient* client) : client_(client) {}

  // Adds the aliases of `version` (AddAliases), reading its model the first time.
  absl::Status AddAliases(v1::ModelVersion* version) {
    auto it = models_.find(version->model());
    if (it == models_.end()) {
      v1::GetModelRequest get;
      get.set_name(version->model());
      absl::StatusOr<v1::Model> model =
          client_->Call(&RegistryStub::GetModel, get, "GetModel " + version->model());
      if (!model.ok()) return model.status();
      it = models_.emplace(version->model(), *std::move(model)).first;
    }
    cli::AddAliases(it->second, version);
    return absl::OkStatus();
  }

 private:
  const RegistryClient* client_;
  std::map<std::string, v1::Model> models_;
};

// The model, its aliases (with who moved them) and, when it has one, its latest version; all
// read before any is printed, so a failed call prints only the error.
int ShowModel(const RegistryClient& client, const std::string& name, const std::string& command) {
  v1::GetModelRequest get;
  get.set_name(name);
  absl::StatusOr<v1::Model> model = client.Call(&RegistryStub::GetModel, get, "GetModel " + name);
  if (!model.ok()) return Fail(command, model.status());
  v1::ListAliasesRequest list;
  list.set_model(name);
  absl::StatusOr<v1::ListAliasesResponse> aliases =
      client.Call(&RegistryStub::ListAliases, list, "ListAliases " + name);
  if (!aliases.ok()) return Fail(command, aliases.status());
  std::optional<v1::ModelVersion> latest;
  if (model->latest_version() != 0) {
    v1::GetVersionRequest get_latest;
    get_latest.mutable_ref()->set_model(name);
    get_latest.mutable_ref()->set_version(model->latest_version());
    absl::StatusOr<v1::ModelVersion> version =
        client.Call(&RegistryStub::GetVersion, get_latest, "GetVersion " + name);
    if (!version.ok()) return Fail(command, version.status());
    AddAliases(*model, &*version);
    latest = *std::move(version);
  }
  PrintModel(*model, {aliases->aliases().begin(), aliases->aliases().end()}, std::cout);
  if (latest.has_value()) {
    std::cout << "\nlatest version:\n";
    PrintVersion(*latest, std::cout);
  }
  return 0;
}

}  // namespace

int RunModelsShow(const std::vector<std::string>& args) {
  RegistryFlags registry;
  core::FlagSet flags("fabrique models show",
                      "Shows a model (NAME): its fields, aliases and latest version; or one "
                      "version (NAME:VERSION, NAME@ALIAS): artifacts, signature, metrics, params "
                      "and lineage.");
  flags.set_usage_args("[flags] NAME|NAME:VERSION|NAME@ALIAS");
  AddRegistryFlags(&flags, &registry);
  core::ParsedArgs parsed;
  if (auto code =
          ParseCommandArgs(flags, args, 1, 1, "one NAME, NAME:VERSION or NAME@ALIAS", &parsed)) {
    return *code;
  }
  absl::StatusOr<VersionSpec> spec = ParseVersionSpec(parsed.positional[0], false);
  if (!spec.ok()) return BadUsage(flags, spec.status().message());
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  if (spec->ref.selector_case() == v1::ModelRef::SELECTOR_NOT_SET) {
    return ShowModel(*client, spec->ref.model(), flags.program());
  }
  v1::GetVersionRequest request;
  *request.mutable_ref() = spec->ref;
  absl::StatusOr<v1::ModelVersion> version =
      client->Call(&RegistryStub::GetVersion, request, "GetVersion " + parsed.positional[0]);
  if (!version.ok()) return Fail(flags.program(), version.status());
  ModelCache models(&*client);
  if (absl::Status added = models.AddAliases(&*version); !added.ok()) {
    return Fail(flags.program(), added);
  }
  PrintVersion(*version, std::cout);
  PrintEvaluations(*version, std::cout);
  return 0;
}

int RunModelsVersions(const std::vector<std::string>& args) {
  RegistryFlags registry;
  bool all = false;
  std::vector<std::string> metrics;
  std::vector<std::string> tags;
  std::string squad;
  std::string use_case;
  core::FlagSet flags("fabrique models versions",
                      "Lists versions newest first: of the models named, or of every model when "
                      "none is. Archived versions only with --all. Follows every page.");
  flags.set_usage_args("[flags] [NAME...]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("all", &all, "Include archived versions");
  flags.Add("metric", &metrics,
            "METRIC OP VALUE the version must meet, e.g. auc>=0.8 (quote it in a shell), "
            "repeatable; versions lacking the metric are left out");
  flags.Add("tag", &tags, "KEY or KEY=VALUE the version must carry, repeatable");
  flags.Add("squad", &squad, "Only models this squad owns");
  flags.Add("use_case", &use_case, "Only models of this use case");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandFlags(flags, args, &parsed)) return *code;
  v1::ListVersionsRequest request;
  for (const std::string& name : parsed.positional) request.add_models(name);
  for (const std::string& text : metrics) {
    absl::StatusOr<v1::MetricThreshold> threshold = ParseMetricThreshold(text);
    if (!threshold.ok()) return BadUsage(flags, threshold.status().message());
    *request.add_metric_filters() = *threshold;
  }
  for (const std::string& tag : tags) request.add_tags(tag);
  request.set_owner_squad(squad);
  request.set_use_case_id(use_case);
  request.set_include_archived(all);
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  ModelCache models(&*client);
  absl::Status aliased;
  // Printed once every page and model has come: a failed call prints only the error.
  std::ostringstream table;
  table << absl::StrFormat("%-28s %-9s %-21s %-16s %-18s %s\n", "VERSION", "STATE", "REGISTERED",
                           "BY", "ALIASES", "METRICS");
  const absl::Status listed = client->CallPages(
      &RegistryStub::ListVersions, request, "ListVersions", [&](v1::ListVersionsResponse page) {
        for (v1::ModelVersion& v : *page.mutable_versions()) {
          if (aliased.ok()) aliased = models.AddAliases(&v);
          table << absl::StrFormat(
              "%-28s %-9s %-21s %-16s %-18s %s\n", absl::StrCat(v.model(), ":", v.version()),
              ShortEnumName(v1::VersionState_Name(v.state()), "VERSION_STATE_"),
              FormatTimestamp(v.register_time()), FormatPrincipal(v.registered_by()),
              v.aliases().empty() ? "-" : absl::StrJoin(v.aliases(), ","), MetricsSummary(v));
        }
      });
  if (!listed.ok()) return Fail(flags.program(), listed);
  if (!aliased.ok()) return Fail(flags.program(), aliased);
  std::cout << table.str();
  return 0;
}

}  // namespace fabrique::cli
