// `fabrique auth token | whoami | can-i | permissions`: who you are to Fabrique and what you may
// do, as `kubectl auth` answers it. whoami and can-i ask a server (fabrique.v1.Access, served by
// every service), so the answer is that server's own view: its verified token and its policy.

#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fabrique/v1/access.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "libs/auth/permissions.h"
#include "libs/client/service_client.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/local_token.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/rpc_call.h"
#include "tools/cli/suggest.h"
#include "tools/cli/up_layout.h"

namespace fabrique::cli {
namespace {

using AccessClient = client::ServiceClient<v1::Access>;
using AccessStub = v1::Access::Stub;

constexpr char kDescription[] =
    "Who you are to Fabrique, and what you may do.\n"
    "\n"
    "Every command that calls a service proves who you are with a bearer token, found in this\n"
    "order: --token, $FABRIQUE_TOKEN, the credentials file, and, with --data_dir DIR of your own\n"
    "'fabrique up', a short-lived token minted for you ($USER, platform-admin in the default\n"
    "policy) with DIR/auth/signing.key. The servers' certificates are checked against --ca,\n"
    "$FABRIQUE_CA, the credentials file's ca, or DIR/auth/ca.crt. Given no address at all, a\n"
    "command reaches the 'fabrique up' running on $FABRIQUE_DATA_DIR or ./fabrique-data, as if\n"
    "--data_dir named it.\n"
    "\n"
    "The credentials file is $FABRIQUE_CONFIG, else $XDG_CONFIG_HOME/fabrique/credentials, else\n"
    "~/.config/fabrique/credentials (YAML; keep it mode 0600):\n"
    "\n"
    "  current-context: prod            # or $FABRIQUE_CONTEXT\n"
    "  contexts:\n"
    "    prod:\n"
    "      ca: /etc/fabrique/prod-ca.crt\n"
    "      token: eyJhbGciOiJFUzI1NiIs...\n"
    "      targets:\n"
    "        registry: registry.prod.example.com:7102\n"
    "        features: features.prod.example.com:7101\n"
    "\n"
    "A file for one installation may give ca, token and targets at the top instead.";

// Connects to the Access service of `service` (any of the six serves it).
absl::StatusOr<AccessClient> ConnectAccess(const ConnectionFlags& flags, const std::string& service,
                                           Connection* connection) {
  absl::StatusOr<Connection> connected = Connect(flags, service);
  if (!connected.ok()) return connected.status();
  *connection = *connected;
  return AccessClient(connected->target.channel, CallTargetOf(connected->target),
                      std::move(connected->call));
}

void AddAccessFlags(core::FlagSet* flag_set, ConnectionFlags* flags, std::string* service) {
  AddConnectionFlags(flag_set, flags, "registry", "the service to ask (any of the six answers)");
  flag_set->Add("service", service,
                "Which service to ask: its address from --data_dir, the credentials file or its "
                "default port");
}

int RunAuthToken(const std::vector<std::string>& args) {
  MintRequest mint;
  std::string groups;
  std::string data_dir;
  core::FlagSet flags("fabrique auth token",
                      "Prints a token (a JWT signed with the local authority's key) for a user in "
                      "groups; a group SQUAD:ROLE grants ROLE in SQUAD under the default policy. "
                      "Works only where the signing key is readable: by whoever runs "
                      "'fabrique up'.");
  flags.set_usage_args("--user USER [--groups SQUAD:ROLE,...] [flags]");
  flags.Add("user", &mint.subject, "Whom the token speaks for (its subject); required");
  flags.Add("groups", &groups, "Comma-separated groups, e.g. risk:data-scientist,risk:sre");
  flags.Add("ttl", &mint.ttl, "How long the token is valid");
  flags.Add("data_dir", &data_dir,
            "Sign with DIR/auth/signing.key of 'fabrique up --data_dir DIR'");
  flags.Add("signing_key", &mint.signing_key_path, "Sign with this PEM key (overrides --data_dir)");
  flags.Add("issuer", &mint.issuer, "The token's issuer, as the services' --token_issuer says");
  flags.Add("audience", &mint.audience, "The token's audience, as the services' --token_audience");
  flags.set_epilog(
      "Example: export FABRIQUE_TOKEN=$(fabrique auth token --data_dir DIR --user dana \\\n"
      "             --groups risk:data-scientist)\n"
      "Exit codes: 0 printed, 1 the key cannot be read or used, 2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  if (mint.subject.empty()) return BadUsage(flags, "--user is required");
  if (mint.signing_key_path.empty()) {
    if (data_dir.empty()) return BadUsage(flags, "pass --data_dir DIR or --signing_key PATH");
    mint.signing_key_path = SigningKeyPath(data_dir);
  }
  mint.groups = absl::StrSplit(groups, ',', absl::SkipWhitespace());
  absl::StatusOr<std::string> token = MintWithKeyFile(mint);
  if (!token.ok()) return Fail(flags.program(), token.status());
  std::cout << *token << "\n";
  return 0;
}

std::string Expiry(const google::protobuf::Timestamp& expires) {
  const absl::Time at = absl::FromUnixSeconds(expires.seconds());
  const absl::Duration left = at - absl::Now();
  return absl::StrCat(
      FormatTimestamp(expires),
      left > absl::ZeroDuration()
          ? absl::StrCat(" (in ", absl::FormatDuration(absl::Trunc(left, absl::Seconds(1))), ")")
          : " (expired)");
}

void PrintWhoAmI(const v1::WhoAmIResponse& who, const ResolvedConnection& resolved,
                 std::ostream& out) {
  out << absl::StrFormat("%-15s %s\n", "subject:", who.caller().subject());
  if (!who.caller().service().empty()) {
    out << absl::StrFormat("%-15s %s\n", "via service:", who.caller().service());
  }
  out << absl::StrFormat("%-15s %s (credentials: %s)\n", "authenticated:", who.authenticated_by(),
                         resolved.token_origin);
  out << absl::StrFormat("%-15s %s\n", "expires:", who.has_expires() ? Expiry(who.expires()) : "-");
  out << absl::StrFormat("%-15s %s\n",
                         "groups:", who.groups().empty() ? "-" : absl::StrJoin(who.groups(), ","));
  out << absl::StrFormat("%-15s %s (%s)\n", "asked:", resolved.service, resolved.address);
  if (who.roles().empty()) {
    out << "roles:          none: the policy grants this caller nothing\n";
    return;
  }
  out << absl::StrFormat("\n%-16s %s\n", "SQUAD", "ROLE");
  for (const v1::RoleGrant& grant : who.roles()) {
    out << absl::StrFormat("%-16s %s\n", grant.squad() == "*" ? "* (every squad)" : grant.squad(),
                           grant.role());
  }
}

int RunAuthWhoAmI(const std::vector<std::string>& args) {
  ConnectionFlags connection_flags;
  std::string service = "registry";
  core::FlagSet flags("fabrique auth whoami",
                      "Shows who a server takes you for: your identity, how it was "
                      "authenticated, when your token expires and your roles in each squad, as "
                      "that server's policy has them.");
  AddAccessFlags(&flags, &connection_flags, &service);
  flags.set_epilog(
      "Exit codes: 0 shown, 1 refused (no or bad credentials) or unreachable, 2 bad "
      "usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  Connection connection;
  absl::StatusOr<AccessClient> access = ConnectAccess(connection_flags, service, &connection);
  if (!access.ok()) return Fail(flags.program(), access.status());
  absl::StatusOr<v1::WhoAmIResponse> who =
      access->Call(&AccessStub::WhoAmI, v1::WhoAmIRequest(), "WhoAmI");
  if (!who.ok()) {
    std::cerr << flags.program() << ": credentials: " << connection.resolved.token_origin << "\n";
    return Fail(flags.program(), who.status());
  }
  PrintWhoAmI(*who, connection.resolved, std::cout);
  return 0;
}

std::vector<std::string> PermissionNames() {
  std::vector<std::string> names;
  for (const auth::Permission& p : auth::AllPermissions()) names.emplace_back(p.name);
  return names;
}

int RunAuthCanI(const std::vector<std::string>& args) {
  ConnectionFlags connection_flags;
  std::string service = "registry";
  v1::CanIRequest request;
  core::FlagSet flags("fabrique auth can-i",
                      "Asks a server whether you hold PERMISSION in a squad, and why: the "
                      "binding and rule that grant it, or what is missing.");
  flags.set_usage_args("PERMISSION [--squad SQUAD] [flags]");
  AddAccessFlags(&flags, &connection_flags, &service);
  flags.Add("squad", request.mutable_squad(),
            "The squad to ask about; empty for a platform-wide permission (held in every squad)");
  flags.set_epilog(
      "Prints 'yes' or 'no', then the reason. 'fabrique auth permissions' lists them all.\n"
      "Exit codes: 0 yes, 1 no (or the server could not be asked), 2 bad usage (an unknown\n"
      "permission included).");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one PERMISSION", &parsed)) return *code;
  request.set_permission(parsed.positional[0]);
  if (auth::FindPermission(request.permission()) == nullptr) {
    return BadUsage(flags, absl::StrCat("unknown permission '", request.permission(), "'",
                                        DidYouMean(request.permission(), PermissionNames())));
  }
  Connection connection;
  absl::StatusOr<AccessClient> access = ConnectAccess(connection_flags, service, &connection);
  if (!access.ok()) return Fail(flags.program(), access.status());
  absl::StatusOr<v1::CanIResponse> answer =
      access->Call(&AccessStub::CanI, request, absl::StrCat("CanI ", request.permission()));
  if (!answer.ok()) return Fail(flags.program(), answer.status());
  std::cout << (answer->allowed() ? "yes" : "no") << "\n" << answer->reason() << "\n";
  return answer->allowed() ? 0 : kExitFailure;
}

int RunAuthPermissions(const std::vector<std::string>& args) {
  core::FlagSet flags("fabrique auth permissions",
                      "Lists every permission a policy may grant, with what it lets a caller do.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  std::cout << absl::StrFormat("%-26s %s\n", "PERMISSION", "LETS A CALLER");
  for (const auth::Permission& p : auth::AllPermissions()) {
    std::cout << absl::StrFormat("%-26s %s\n", p.name, p.description);
  }
  return 0;
}

}  // namespace

int RunAuth(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"token", "token --user USER --groups G,..", "Print a token signed by the local authority",
       RunAuthToken},
      {"whoami", "whoami", "Show who a server takes you for, and your roles", RunAuthWhoAmI},
      {"can-i", "can-i PERMISSION --squad S", "Say whether you hold a permission, and why",
       RunAuthCanI},
      {"permissions", "permissions", "List every permission", RunAuthPermissions},
  };
  return RunSubcommand("fabrique auth", kDescription, kSubcommands, args);
}

}  // namespace fabrique::cli
