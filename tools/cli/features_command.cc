// `fabrique features`: the feature store from the command line. Dispatches to apply, ingest,
// list and lookup; each has --help.

#include <iostream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/features_client.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

constexpr char kDescription[] = "Works with the feature store (fabrique-features).";

int RunFeaturesList(const std::vector<std::string>& args) {
  FeaturesTarget target;
  std::string entity;
  std::string owner_squad;
  core::FlagSet flags("fabrique features list",
                      "Lists feature groups: name, schema version, entity, owner squad and "
                      "feature count.");
  AddTargetFlags(&flags, &target);
  flags.Add("entity", &entity, "Only groups of this entity; empty = any");
  flags.Add("owner_squad", &owner_squad, "Only groups this squad owns; empty = any");
  flags.set_epilog("Exit codes: 0 listed, 1 failure, 2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  absl::StatusOr<FeatureStoreClient> store = ConnectFeatureStore(target);
  if (!store.ok()) return Fail(flags.program(), store.status());
  v1::ListFeatureGroupsRequest request;
  request.set_entity(entity);
  request.set_owner_squad(owner_squad);
  // Printed once every page has come: a failed call prints only the error.
  std::ostringstream table;
  table << absl::StrFormat("%-24s %-7s %-16s %-16s %s\n", "GROUP", "SCHEMA", "ENTITY", "OWNER",
                           "FEATURES");
  const absl::Status listed =
      store->CallPages(&FeatureStoreStub::ListFeatureGroups, request, "ListFeatureGroups",
                       [&table](const v1::ListFeatureGroupsResponse& page) {
                         for (const v1::FeatureGroup& g : page.groups()) {
                           table << absl::StrFormat(
                               "%-24s v%-6d %-16s %-16s %d\n", g.spec().name(), g.schema_version(),
                               g.spec().entity(), g.spec().owner_squad(), g.spec().features_size());
                         }
                       });
  if (!listed.ok()) return Fail(flags.program(), listed);
  std::cout << table.str();
  return 0;
}

}  // namespace

int RunFeatures(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"apply", "apply FILE", "Create or update entities and feature groups from a JSON file",
       RunFeaturesApply},
      {"ingest", "ingest --group G FILE",
       "Load a CSV file into a feature group, with progress and summary", RunFeaturesIngest},
      {"list", "list", "List feature groups with schema version, entity and owner",
       RunFeaturesList},
      {"lookup", "lookup --features G:F[,...] --keys K[,...]",
       "Look features up online for entity keys: values and statuses", RunFeaturesLookup},
  };
  return RunSubcommand("fabrique features", kDescription, kSubcommands, args);
}

}  // namespace fabrique::cli
