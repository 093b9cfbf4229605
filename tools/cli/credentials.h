#ifndef FABRIQUE_TOOLS_CLI_CREDENTIALS_H_
#define FABRIQUE_TOOLS_CLI_CREDENTIALS_H_

// How a `fabrique` command reaches a service and proves who it is, decided in one place and in a
// fixed order, like kubectl's:
//
//   address  DATA_DIR/endpoints.tsv of `fabrique up --data_dir DATA_DIR`, else --target, else the
//            credentials file's `targets`, else the `fabrique up` running on the default folder
//            (LocalDataDir: then DATA_DIR is that folder for the CA and token too), else the
//            service's default port on 127.0.0.1;
//   token    --token, else $FABRIQUE_TOKEN, else the credentials file's `token`, else — with
//            --data_dir of a `fabrique up` whose DATA_DIR/auth/signing.key this user can read — a
//            short-lived token minted for the local user; else none (the server will say so);
//   CA       --ca, else $FABRIQUE_CA, else the credentials file's `ca`, else DATA_DIR/auth/ca.crt;
//   plaintext  --insecure, or a DATA_DIR whose `fabrique up` runs with --insecure; then no token is
//            sent at all (such servers authenticate nobody, and a token must not cross a
//            plaintext wire).
//
// The credentials file is credentials_file.h's. Resolution is pure (environment and files in,
// settings out) so tests pin the order; connection.h turns the result into a channel and call
// context.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/core/flags.h"
#include "tools/cli/credentials_file.h"

namespace fabrique::cli {

// The flags of every command that calls a service.
struct ConnectionFlags {
  std::string target;     // host:port; "" = the credentials file's, else the default port.
  std::string data_dir;   // A `fabrique up` folder; when set, wins over `target`.
  std::string token;      // A bearer token (JWT); "" = the next source in the order above.
  std::string ca;         // CA bundle (PEM) path; "" = the next source.
  bool insecure = false;  // Plaintext, for servers run with --insecure.
  absl::Duration timeout = absl::Seconds(30);  // Deadline of each unary call.
};

// Declares --target, --data_dir, --token, --ca, --insecure and --timeout, bound to `flags`, for
// `service` (catalog name, whose default port --target's help names). `what` names it for people,
// e.g. "the model registry (fabrique-registry)".
void AddConnectionFlags(core::FlagSet* flag_set, ConnectionFlags* flags, absl::string_view service,
                        absl::string_view what);

// The folder a plain `fabrique up` runs on: $FABRIQUE_DATA_DIR, else "fabrique-data".
std::string DefaultDataDir(const Getenv& getenv);

// DefaultDataDir while a `fabrique up` runs there (its endpoints.tsv exists), else "". Commands
// given no address at all reach it, so `fabrique up` then `fabrique status` in the same folder
// just works, over TLS and with a token, like `kind create cluster` then `kubectl`.
std::string LocalDataDir(const Getenv& getenv);

// Where the token comes from.
enum class TokenKind {
  kNone,    // No token: the call goes without one.
  kGiven,   // `token` below, as given.
  kMinted,  // Minted for `mint_subject` with the key at `signing_key_path`.
};

// What a command resolved for one service.
struct ResolvedConnection {
  std::string service;   // Catalog name: "registry".
  std::string address;   // host:port.
  std::string data_dir;  // The `fabrique up` folder the address came from; "" otherwise.
  // Where `address` came from: "DIR/endpoints.tsv", "--target", the file's Origin(), "default".
  std::string address_origin;
  bool plaintext = false;
  std::string ca_path;  // "" when plaintext.
  // The name the server's certificate must carry when the address is not it: "fabrique-<svc>"
  // for a local `fabrique up`, whose certificates name the service, not the listen address.
  std::string server_name_override;
  TokenKind token_kind = TokenKind::kNone;
  std::string token;             // kGiven.
  std::string signing_key_path;  // kMinted.
  std::string mint_subject;      // kMinted.
  // Where the token came from, for `fabrique auth whoami` and hints: "--token",
  // "$FABRIQUE_TOKEN", the file's Origin(), "minted for USER with DIR/auth/signing.key", "none".
  std::string token_origin;
};

// Resolves `flags` for `service` in the order above, reading the environment through `getenv`.
// Errors: NOT_FOUND when DATA_DIR/endpoints.tsv is missing or lists no such service; the
// credentials file's error when it cannot be read or parsed; FAILED_PRECONDITION when TLS is
// wanted and no CA is found anywhere, saying where one may be given.
absl::StatusOr<ResolvedConnection> ResolveConnection(const ConnectionFlags& flags,
                                                     absl::string_view service,
                                                     const Getenv& getenv);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CREDENTIALS_H_
