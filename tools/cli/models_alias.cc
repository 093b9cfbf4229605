// `fabrique models alias` and `fabrique models archive`: moving names between versions by hand.
// An alias whose policy has gates only moves through 'fabrique models promote'; the registry
// says so (FAILED_PRECONDITION), and this prints it.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/empty.pb.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

void PrintAliasRow(const v1::Alias& a) {
  std::cout << absl::StrFormat("%-16s %-7d %-21s %-16s %s\n", a.name(), a.version(),
                               FormatTimestamp(a.update_time()), FormatPrincipal(a.updated_by()),
                               a.promotion_request_id().empty() ? "-" : a.promotion_request_id());
}

void PrintAliasHeader() {
  std::cout << absl::StrFormat("%-16s %-7s %-21s %-16s %s\n", "ALIAS", "VERSION", "UPDATED", "BY",
                               "PROMOTION");
}

}  // namespace

int RunModelsAlias(const std::vector<std::string>& args) {
  RegistryFlags registry;
  int64_t expect = 0;
  bool remove = false;
  std::string reason;
  core::FlagSet flags("fabrique models alias",
                      "NAME: lists the model's aliases. NAME ALIAS: shows one. NAME ALIAS VERSION: "
                      "points the alias at the version (aliases with promotion gates move through "
                      "'fabrique models promote' instead). NAME ALIAS --delete: removes it.");
  flags.set_usage_args("[flags] NAME [ALIAS [VERSION]]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("expect", &expect,
            "Move only if the alias holds this version now (compare-and-set); 0 = any");
  flags.Add("delete", &remove, "Remove the alias");
  flags.Add("reason", &reason, "Why, recorded in the audit trail");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 3, "NAME [ALIAS [VERSION]]", &parsed)) {
    return *code;
  }
  const std::vector<std::string>& p = parsed.positional;
  if (remove && p.size() != 2) return BadUsage(flags, "--delete takes NAME ALIAS");
  int64_t version = 0;
  if (p.size() == 3) {
    absl::StatusOr<int64_t> number = ParseVersionNumber(p[2]);
    if (!number.ok()) return BadUsage(flags, number.status().message());
    version = *number;
  }
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  if (p.size() == 1) {
    v1::ListAliasesRequest request;
    request.set_model(p[0]);
    absl::StatusOr<v1::ListAliasesResponse> listed =
        client->Call(&RegistryStub::ListAliases, request, "ListAliases " + p[0]);
    if (!listed.ok()) return Fail(flags.program(), listed.status());
    PrintAliasHeader();
    for (const v1::Alias& alias : listed->aliases()) PrintAliasRow(alias);
    return 0;
  }
  const std::string what = absl::StrCat(p[0], "@", p[1]);
  if (remove) {
    v1::DeleteAliasRequest request;
    request.set_model(p[0]);
    request.set_alias(p[1]);
    request.set_reason(reason);
    absl::StatusOr<google::protobuf::Empty> deleted =
        client->Call(&RegistryStub::DeleteAlias, request, "DeleteAlias " + what);
    if (!deleted.ok()) return Fail(flags.program(), deleted.status());
    std::cout << "deleted alias " << what << "\n";
    return 0;
  }
  absl::StatusOr<v1::Alias> alias;
  if (p.size() == 2) {
    v1::GetAliasRequest request;
    request.set_model(p[0]);
    request.set_alias(p[1]);
    alias = client->Call(&RegistryStub::GetAlias, request, "GetAlias " + what);
  } else {
    v1::SetAliasRequest request;
    request.set_model(p[0]);
    request.set_alias(p[1]);
    request.set_version(version);
    request.set_expected_current_version(expect);
    request.set_reason(reason);
    alias = client->Call(&RegistryStub::SetAlias, request, "SetAlias " + what);
  }
  if (!alias.ok()) return Fail(flags.program(), alias.status());
  PrintAliasHeader();
  PrintAliasRow(*alias);
  return 0;
}

int RunModelsArchive(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string reason;
  core::FlagSet flags("fabrique models archive",
                      "Archives a version: it leaves every alias that holds it, cannot be aliased "
                      "again, and may then be deleted. Archiving an archived version changes "
                      "nothing.");
  flags.set_usage_args("[flags] NAME VERSION");
  AddRegistryFlags(&flags, &registry);
  flags.Add("reason", &reason, "Why, recorded in the audit trail");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 2, 2, "NAME VERSION", &parsed)) return *code;
  absl::StatusOr<int64_t> number = ParseVersionNumber(parsed.positional[1]);
  if (!number.ok()) return BadUsage(flags, number.status().message());
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::ArchiveVersionRequest request;
  request.mutable_version()->set_model(parsed.positional[0]);
  request.mutable_version()->set_version(*number);
  request.set_reason(reason);
  absl::StatusOr<v1::ModelVersion> archived =
      client->Call(&RegistryStub::ArchiveVersion, request,
                   absl::StrCat("ArchiveVersion ", parsed.positional[0], ":", *number));
  if (!archived.ok()) return Fail(flags.program(), archived.status());
  std::cout << "archived " << archived->model() << ":" << archived->version() << "\n";
  return 0;
}

}  // namespace fabrique::cli
