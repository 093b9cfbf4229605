#ifndef FABRIQUE_TOOLS_CLI_CREDENTIALS_FILE_H_
#define FABRIQUE_TOOLS_CLI_CREDENTIALS_FILE_H_

// The credentials file: where a person's `fabrique` finds the services of a remote installation
// and how it proves who it is, as kubectl's kubeconfig does. YAML, one context per installation;
// `current-context` (or $FABRIQUE_CONTEXT) picks the one in use:
//
//   current-context: prod
//   contexts:
//     prod:
//       ca: /etc/fabrique/prod-ca.crt        # CA the servers' certificates chain to
//       token: eyJhbGciOiJFUzI1NiIs...        # bearer token (JWT) from the identity provider
//       targets:                              # host:port of each service used
//         registry: registry.prod.example.com:7102
//         features: features.prod.example.com:7101
//
// A file with a single installation may leave out `contexts` and `current-context` and give
// `ca`, `token` and `targets` at the top. A relative `ca` path is relative to the file's folder.
// Unknown keys are errors, so a typo is not silently ignored. The file holds a secret: keep it
// mode 0600.
//
// Where it is: $FABRIQUE_CONFIG, else $XDG_CONFIG_HOME/fabrique/credentials, else
// ~/.config/fabrique/credentials.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::cli {

// Reads an environment variable; "" when unset. Injected so tests set no process environment.
using Getenv = std::function<std::string(const char* name)>;
// The process environment.
Getenv ProcessEnvironment();

// The context in use of a credentials file.
struct CredentialsContext {
  std::string path;  // The file it came from.
  std::string name;  // The context's name; "" in a file without contexts.
  std::string ca;    // CA bundle path, made absolute against the file's folder; "" if none.
  std::string token;
  std::map<std::string, std::string> targets;  // Service name ("registry") -> host:port.

  // "credentials file PATH (context NAME)", for messages saying where a value came from.
  std::string Origin() const;
};

// The path of the credentials file as the environment says (above); "" when neither
// $FABRIQUE_CONFIG, $XDG_CONFIG_HOME nor $HOME is set.
std::string CredentialsFilePath(const Getenv& getenv);

// Parses `text`, the content of the file at `path`, and returns the context named `context`, or
// the file's current-context when `context` is "". INVALID_ARGUMENT naming the file (and the
// line, for YAML syntax) when the text is not a credentials file, when it names no context to use
// or when the named one is missing.
absl::StatusOr<CredentialsContext> ParseCredentials(absl::string_view text, const std::string& path,
                                                    const std::string& context);

// Reads the file CredentialsFilePath names and returns its context in use ($FABRIQUE_CONTEXT,
// else current-context); nullopt when there is no file at the default paths. A file that cannot be
// read or parsed, or one $FABRIQUE_CONFIG names that does not exist, is an error naming it.
absl::StatusOr<std::optional<CredentialsContext>> LoadCredentials(const Getenv& getenv);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CREDENTIALS_FILE_H_
