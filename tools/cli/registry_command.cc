// `fabrique registry audit | gc`, and `fabrique models audit` (the same audit): the registry's
// audit trail and its housekeeping.

#include <iostream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

constexpr char kDescription[] =
    "The model registry's own records: the hash-chained audit trail of every change, and the\n"
    "garbage collection of artifacts no version references. 'fabrique models' works with the\n"
    "models themselves.";

// Writes the chain's verification to `out`; false when it is broken.
absl::StatusOr<bool> VerifyChain(const RegistryClient& client, std::ostream& out) {
  absl::StatusOr<v1::VerifyAuditChainResponse> verified = client.Call(
      &RegistryStub::VerifyAuditChain, v1::VerifyAuditChainRequest(), "VerifyAuditChain");
  if (!verified.ok()) return verified.status();
  if (verified->valid()) {
    out << absl::StrFormat("audit chain valid: %d entries checked, head %s\n",
                           verified->entries_checked(), verified->head_hash());
    return true;
  }
  out << absl::StrFormat("audit chain INVALID: entry %d does not match (%s); %d checked\n",
                         verified->first_bad_sequence(), verified->detail(),
                         verified->entries_checked());
  return false;
}

int RunRegistryGc(const std::vector<std::string>& args) {
  RegistryFlags registry;
  bool dry_run = false;
  core::FlagSet flags("fabrique registry gc",
                      "Removes the artifacts no stored version references (those uploaded within "
                      "the server's --gc_grace are spared, for versions not registered yet).");
  AddRegistryFlags(&flags, &registry);
  flags.Add("dry_run", &dry_run, "List what would be removed; remove nothing");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::CollectGarbageRequest request;
  request.set_dry_run(dry_run);
  absl::StatusOr<v1::CollectGarbageResponse> collected =
      client->Call(&RegistryStub::CollectGarbage, request, "CollectGarbage");
  if (!collected.ok()) return Fail(flags.program(), collected.status());
  std::cout << (dry_run ? "would remove " : "removed ") << collected->blobs_removed()
            << " artifacts (" << FormatBytes(collected->bytes_freed()) << ")\n";
  for (const std::string& sha256 : collected->sha256s()) std::cout << "  " << sha256 << "\n";
  return 0;
}

// The audit command, as `program` ("fabrique registry audit" or "fabrique models audit").
int RunAudit(const std::string& program, const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string model;
  int64_t since = 0;
  bool verify = false;
  core::FlagSet flags(
      program,
      "Prints the audit trail, oldest first: sequence, time, who, action, the "
      "entry's hash (first 12 hex digits) and target. Each entry carries the hash of "
      "the one before; --verify recomputes the whole chain.");
  AddRegistryFlags(&flags, &registry);
  flags.Add("model", &model, "Only entries about this model; empty = all");
  flags.Add("since", &since, "Start at this sequence number; 0 = the first");
  flags.Add("verify", &verify, "Also verify the hash chain (exit 1 if it is broken)");
  flags.set_epilog(
      "Exit codes: 0 listed (and the chain is valid), 1 failure or a broken chain, "
      "2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  v1::ListAuditEntriesRequest request;
  request.set_model(model);
  request.set_start_sequence(since);
  // Printed once every page (and the verification) has come: a failed call prints only the
  // error.
  std::ostringstream table;
  table << absl::StrFormat("%-5s %-21s %-16s %-18s %-12s %s\n", "SEQ", "TIME", "WHO", "ACTION",
                           "HASH", "TARGET");
  const absl::Status listed = client->CallPages(
      &RegistryStub::ListAuditEntries, request, "ListAuditEntries",
      [&](const v1::ListAuditEntriesResponse& page) {
        for (const v1::AuditEntry& e : page.entries()) {
          table << absl::StrFormat("%-5d %-21s %-16s %-18s %-12s %s%s\n", e.sequence(),
                                   FormatTimestamp(e.time()), FormatPrincipal(e.actor()),
                                   e.action(), e.hash().substr(0, 12), e.target(),
                                   e.reason().empty() ? "" : "  (" + e.reason() + ")");
        }
      });
  if (!listed.ok()) return Fail(flags.program(), listed);
  bool valid = true;
  if (verify) {
    absl::StatusOr<bool> verified = VerifyChain(*client, table);
    if (!verified.ok()) return Fail(flags.program(), verified.status());
    valid = *verified;
  }
  std::cout << table.str();
  return valid ? 0 : 1;
}

}  // namespace

int RunRegistryAudit(const std::vector<std::string>& args) {
  return RunAudit("fabrique registry audit", args);
}

int RunModelsAudit(const std::vector<std::string>& args) {
  return RunAudit("fabrique models audit", args);
}

int RunRegistry(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"audit", "audit [--model M] [--verify]",
       "Print the audit trail; --verify checks its hash chain", RunRegistryAudit},
      {"gc", "gc [--dry_run]", "Remove artifacts no version references", RunRegistryGc},
  };
  return RunSubcommand("fabrique registry", kDescription, kSubcommands, args);
}

}  // namespace fabrique::cli
