#include "tools/cli/credentials.h"

#include <unistd.h>

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/client/service_catalog.h"
#include "tools/cli/endpoints_file.h"
#include "tools/cli/local_token.h"
#include "tools/cli/up_layout.h"

namespace fabrique::cli {
namespace {

using File = std::optional<CredentialsContext>;

bool Exists(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::exists(path, ignored);
}

// Fills the token fields of `out` by the order in credentials.h.
void ResolveToken(const ConnectionFlags& flags, const Getenv& getenv, const File& file,
                  ResolvedConnection* out) {
  if (out->plaintext) {
    out->token_origin = "none (plaintext: no credentials are sent)";
    return;
  }
  auto given = [out](std::string token, std::string origin) {
    out->token_kind = TokenKind::kGiven;
    out->token = std::move(token);
    out->token_origin = std::move(origin);
  };
  if (!flags.token.empty()) return given(flags.token, "--token");
  if (std::string env = getenv("FABRIQUE_TOKEN"); !env.empty()) {
    return given(env, "$FABRIQUE_TOKEN");
  }
  if (file.has_value() && !file->token.empty()) return given(file->token, file->Origin());
  if (!flags.data_dir.empty()) {
    const std::string key = SigningKeyPath(flags.data_dir);
    // Readable, not merely present: another user's `fabrique up` keeps its key to itself.
    if (::access(key.c_str(), R_OK) == 0) {
      out->token_kind = TokenKind::kMinted;
      out->signing_key_path = key;
      out->mint_subject = LocalUser(getenv);
      out->token_origin = absl::StrCat("minted for ", out->mint_subject, " with ", key);
      return;
    }
  }
  out->token_origin = "none";
}

absl::Status ResolveTransport(const ConnectionFlags& flags, const Getenv& getenv, const File& file,
                              ResolvedConnection* out) {
  out->plaintext =
      flags.insecure || (!flags.data_dir.empty() && Exists(InsecureMarkerPath(flags.data_dir)));
  if (out->plaintext) return absl::OkStatus();
  if (!flags.ca.empty()) {
    out->ca_path = flags.ca;
  } else if (std::string env = getenv("FABRIQUE_CA"); !env.empty()) {
    out->ca_path = env;
  } else if (file.has_value() && !file->ca.empty()) {
    out->ca_path = file->ca;
  } else if (!flags.data_dir.empty() && Exists(CaPath(flags.data_dir))) {
    out->ca_path = CaPath(flags.data_dir);
  } else {
    const std::string where =
        flags.data_dir.empty()
            ? "pass --data_dir of a 'fabrique up'"
            : absl::StrCat("note ", CaPath(flags.data_dir), " does not exist: ", flags.data_dir,
                           " is not the folder of a 'fabrique up' that makes its own CA");
    return absl::FailedPreconditionError(absl::StrCat(
        "no CA to check the server's certificate against: pass --ca FILE, set FABRIQUE_CA, add "
        "'ca:' to the credentials file (",
        CredentialsFilePath(getenv).empty() ? "$FABRIQUE_CONFIG" : CredentialsFilePath(getenv),
        "), or ", where, "; --insecure for a server run with --insecure"));
  }
  // A local `fabrique up`'s certificates name the service, not whatever address it listens on.
  if (!flags.data_dir.empty() && out->ca_path == CaPath(flags.data_dir)) {
    out->server_name_override = LocalServerName(out->service);
  }
  return absl::OkStatus();
}

// Fills the address of `out->service` by the order in credentials.h.
absl::Status ResolveAddress(const ConnectionFlags& flags, const File& file,
                            ResolvedConnection* out) {
  if (!flags.data_dir.empty()) {
    absl::StatusOr<std::vector<Endpoint>> endpoints = ReadEndpoints(flags.data_dir);
    if (!endpoints.ok()) return endpoints.status();
    for (const Endpoint& e : *endpoints) {
      if (e.name == out->service) {
        out->address = e.grpc_address;
        out->data_dir = flags.data_dir;
        out->address_origin = EndpointsPath(flags.data_dir);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(
        absl::StrCat(EndpointsPath(flags.data_dir), " lists no '", out->service, "' service"));
  }
  if (!flags.target.empty()) {
    out->address = flags.target;
    out->address_origin = "--target";
  } else if (file.has_value() && file->targets.count(out->service) > 0) {
    out->address = file->targets.at(out->service);
    out->address_origin = file->Origin();
  } else {
    const client::ServiceInfo* info = client::FindService(out->service);
    out->address = absl::StrCat("127.0.0.1:", info == nullptr ? 0 : info->default_port);
    out->address_origin = "default";
  }
  return absl::OkStatus();
}

}  // namespace

std::string DefaultDataDir(const Getenv& getenv) {
  std::string dir = getenv("FABRIQUE_DATA_DIR");
  return dir.empty() ? "fabrique-data" : dir;
}

std::string LocalDataDir(const Getenv& getenv) {
  const std::string dir = DefaultDataDir(getenv);
  return Exists(EndpointsPath(dir)) ? dir : "";
}

void AddConnectionFlags(core::FlagSet* flag_set, ConnectionFlags* flags, absl::string_view service,
                        absl::string_view what) {
  const client::ServiceInfo* info = client::FindService(service);
  flag_set->Add("target", &flags->target,
                absl::StrCat("host:port of ", what,
                             "; empty: the credentials file's, else the 'fabrique up' running on "
                             "$FABRIQUE_DATA_DIR or ./fabrique-data, else 127.0.0.1:",
                             info == nullptr ? 0 : info->default_port));
  flag_set->Add("data_dir", &flags->data_dir,
                "Reach the 'fabrique up --data_dir DIR' running there: its endpoints, CA and "
                "(if you may read its signing key) a token for you (overrides --target)");
  flag_set->Add("token", &flags->token,
                "Bearer token to call with (else $FABRIQUE_TOKEN, the credentials file, or one "
                "minted with --data_dir's key); see 'fabrique auth --help'");
  flag_set->Add("ca", &flags->ca,
                "CA bundle (PEM) the server's certificate must chain to (else $FABRIQUE_CA, the "
                "credentials file, or DIR/auth/ca.crt of --data_dir)");
  flag_set->Add("insecure", &flags->insecure,
                "Plaintext and no credentials, for a server run with --insecure");
  flag_set->Add("timeout", &flags->timeout, "Deadline of each call");
}

absl::StatusOr<ResolvedConnection> ResolveConnection(const ConnectionFlags& flags,
                                                     absl::string_view service,
                                                     const Getenv& getenv) {
  ResolvedConnection out;
  out.service = std::string(service);
  absl::StatusOr<File> file = LoadCredentials(getenv);
  if (!file.ok()) return file.status();
  // Given no address anywhere, the local `fabrique up` is the one meant.
  ConnectionFlags effective = flags;
  if (flags.data_dir.empty() && flags.target.empty() &&
      !(file->has_value() && (*file)->targets.count(out.service) > 0)) {
    effective.data_dir = LocalDataDir(getenv);
  }
  if (absl::Status address = ResolveAddress(effective, *file, &out); !address.ok()) {
    return address;
  }
  if (absl::Status transport = ResolveTransport(effective, getenv, *file, &out); !transport.ok()) {
    return transport;
  }
  ResolveToken(effective, getenv, *file, &out);
  return out;
}

}  // namespace fabrique::cli
