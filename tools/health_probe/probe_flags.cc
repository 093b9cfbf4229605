#include "tools/health_probe/probe_flags.h"

#include <cctype>
#include <functional>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace fabrique::health_probe {
namespace {

// One flag: whether it is a bool (which takes no separate value, as in Go) and how its text
// value is stored.
struct FlagSpec {
  bool is_bool = false;
  std::function<absl::Status(const std::string&, ProbeOptions*)> set;
};

absl::Status SetString(std::string ProbeOptions::*field, const std::string& value,
                       ProbeOptions* options) {
  options->*field = value;
  return absl::OkStatus();
}

absl::Status SetDuration(absl::Duration ProbeOptions::*field, const std::string& name,
                         const std::string& value, ProbeOptions* options) {
  absl::Duration duration;
  if (!absl::ParseDuration(value, &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value \"", value, "\" for flag -", name, ": parse error"));
  }
  options->*field = duration;
  return absl::OkStatus();
}

absl::Status SetBool(bool ProbeOptions::*field, const std::string& name, const std::string& value,
                     ProbeOptions* options) {
  if (value == "true" || value == "1" || value == "t" || value == "TRUE" || value == "True") {
    options->*field = true;
  } else if (value == "false" || value == "0" || value == "f" || value == "FALSE" ||
             value == "False") {
    options->*field = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid boolean value \"", value, "\" for -", name, ": parse error"));
  }
  return absl::OkStatus();
}

absl::Status AddHeader(const std::string& value, ProbeOptions* options) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value \"", value, "\" for flag -rpc-header: want NAME:VALUE"));
  }
  std::string name = value.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  options->rpc_headers.emplace_back(
      name, std::string(absl::StripLeadingAsciiWhitespace(value.substr(colon + 1))));
  return absl::OkStatus();
}

const std::map<std::string, FlagSpec>& Flags() {
  using O = ProbeOptions;
  static const auto* const flags = new std::map<std::string, FlagSpec>{
      {"addr", {false, [](auto& v, O* o) { return SetString(&O::addr, v, o); }}},
      {"service", {false, [](auto& v, O* o) { return SetString(&O::service, v, o); }}},
      {"user-agent", {false, [](auto& v, O* o) { return SetString(&O::user_agent, v, o); }}},
      {"connect-timeout",
       {false,
        [](auto& v, O* o) { return SetDuration(&O::connect_timeout, "connect-timeout", v, o); }}},
      {"rpc-timeout",
       {false, [](auto& v, O* o) { return SetDuration(&O::rpc_timeout, "rpc-timeout", v, o); }}},
      {"tls", {true, [](auto& v, O* o) { return SetBool(&O::tls, "tls", v, o); }}},
      {"tls-ca-cert", {false, [](auto& v, O* o) { return SetString(&O::tls_ca_cert, v, o); }}},
      {"tls-client-cert",
       {false, [](auto& v, O* o) { return SetString(&O::tls_client_cert, v, o); }}},
      {"tls-client-key",
       {false, [](auto& v, O* o) { return SetString(&O::tls_client_key, v, o); }}},
      {"tls-server-name",
       {false, [](auto& v, O* o) { return SetString(&O::tls_server_name, v, o); }}},
      {"gzip", {true, [](auto& v, O* o) { return SetBool(&O::gzip, "gzip", v, o); }}},
      {"v", {true, [](auto& v, O* o) { return SetBool(&O::verbose, "v", v, o); }}},
      {"rpc-header", {false, [](auto& v, O* o) { return AddHeader(v, o); }}},
      {"h", {true, [](auto& v, O* o) { return SetBool(&O::help, "h", v, o); }}},
      {"help", {true, [](auto& v, O* o) { return SetBool(&O::help, "help", v, o); }}},
  };
  return *flags;
}

// grpc_health_probe's flags that need credentials this build has no use for in a Fabrique pod.
bool IsUnsupported(const std::string& name) {
  return name == "tls-no-verify" || name == "alts" || name == "spiffe";
}

absl::Status Validate(const ProbeOptions& options) {
  if (options.addr.empty()) return absl::InvalidArgumentError("-addr not specified");
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-connect-timeout must be greater than zero (specified: ",
                     absl::FormatDuration(options.connect_timeout), ")"));
  }
  if (options.rpc_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-rpc-timeout must be greater than zero (specified: ",
                     absl::FormatDuration(options.rpc_timeout), ")"));
  }
  const bool tls_options = !options.tls_ca_cert.empty() || !options.tls_client_cert.empty() ||
                           !options.tls_client_key.empty() || !options.tls_server_name.empty();
  if (!options.tls && tls_options) {
    return absl::InvalidArgumentError("specified -tls-* options without specifying -tls");
  }
  if (options.tls_client_cert.empty() != options.tls_client_key.empty()) {
    return absl::InvalidArgumentError(
        "specify both -tls-client-cert and -tls-client-key, or neither");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProbeOptions> ParseProbeFlags(const std::vector<std::string>& args) {
  ProbeOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--" || !absl::StartsWith(arg, "-") || arg == "-") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string body = arg.substr(absl::StartsWith(arg, "--") ? 2 : 1);
    std::optional<std::string> value;
    if (const size_t eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body.resize(eq);
    }
    if (IsUnsupported(body)) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag -", body, " is not supported by fabrique-health-probe"));
    }
    const auto flag = Flags().find(body);
    if (flag == Flags().end()) {
      return absl::InvalidArgumentError(absl::StrCat("flag provided but not defined: -", body));
    }
    if (!value.has_value()) {
      if (flag->second.is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: -", body));
      }
    }
    if (absl::Status set = flag->second.set(*value, &options); !set.ok()) return set;
  }
  if (options.help) return options;
  if (absl::Status valid = Validate(options); !valid.ok()) return valid;
  return options;
}

std::string ProbeUsage() {
  return "Usage: fabrique-health-probe -addr=HOST:PORT [flags]\n"
         "\n"
         "Asks a gRPC server's grpc.health.v1.Health/Check and exits 0 when it answers SERVING.\n"
         "Takes grpc_health_probe's flags and exit codes, for container liveness and readiness\n"
         "probes in an image without a shell.\n"
         "\n"
         "Flags:\n"
         "  -addr HOST:PORT          address of the server (required)\n"
         "  -service NAME            service to check; empty = the whole server (default \"\")\n"
         "  -connect-timeout DUR     time to connect, TLS handshake included (default 1s)\n"
         "  -rpc-timeout DUR         deadline of the health call (default 1s)\n"
         "  -tls                     use TLS (default plaintext)\n"
         "  -tls-ca-cert FILE        PEM CA bundle for the server's certificate (default: the "
         "system's)\n"
         "  -tls-client-cert FILE    PEM client certificate for mutual TLS\n"
         "  -tls-client-key FILE     its PEM private key\n"
         "  -tls-server-name NAME    name the server's certificate must carry\n"
         "  -user-agent TEXT         User-Agent of the call (default \"grpc_health_probe\")\n"
         "  -rpc-header NAME:VALUE   extra call metadata; repeatable\n"
         "  -gzip                    compress the call with gzip\n"
         "  -v                       log each step to stderr\n"
         "\n"
         "Exit codes: 0 SERVING, 1 invalid flags, 2 connection failure, 3 RPC failure (including\n"
         "an unknown -service), 4 answered but not SERVING.\n";
}

}  // namespace fabrique::health_probe
