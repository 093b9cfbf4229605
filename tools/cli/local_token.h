#ifndef FABRIQUE_TOOLS_CLI_LOCAL_TOKEN_H_
#define FABRIQUE_TOOLS_CLI_LOCAL_TOKEN_H_

// Tokens minted on this machine with a signing key on disk: the key of `fabrique up`'s local
// authority (DATA_DIR/auth/signing.key), readable only by whoever runs it. `fabrique auth token`
// prints one for anybody; every other command mints a short-lived one for the local user, whom
// the default policy makes platform-admin, so a laptop's `fabrique` just works against its own
// `fabrique up` without a login step (as kind and minikube hand their user an admin config).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "tools/cli/credentials_file.h"

namespace fabrique::cli {

// The issuer and audience of the local authority's tokens, which `fabrique up` passes its
// services as --token_issuer (and the default --token_audience).
inline constexpr char kLocalIssuer[] = "fabrique-local";
inline constexpr char kLocalAudience[] = "fabrique";

// The user `fabrique up` makes platform-admin in the policy it writes: $USER, else "root".
std::string LocalUser(const Getenv& getenv);

struct MintRequest {
  std::string signing_key_path;         // PEM private key (ES256 or RS256). Required.
  std::string subject;                  // "sub". Required.
  std::vector<std::string> groups;      // e.g. "risk:data-scientist". Default none.
  absl::Duration ttl = absl::Hours(1);  // How long it is valid from now. Default 1 h.
  std::string issuer = kLocalIssuer;
  std::string audience = kLocalAudience;
};

// A token as `request` says, dated by `clock` (nullptr = real). FAILED_PRECONDITION naming the
// key and why when it cannot be read (usually: only the user running `fabrique up` may), or
// INVALID_ARGUMENT when it is no signing key or the ttl is not positive.
absl::StatusOr<std::string> MintWithKeyFile(const MintRequest& request,
                                            const core::Clock* clock = nullptr);

// A token source for CallCredentials::token_source: mints as `request` says on first use and
// again once less than a quarter of the token's life is left, so a long command (a watch, a big
// ingest) never sends an expired token. The key is read at each mint.
std::function<absl::StatusOr<std::string>()> MintingTokenSource(MintRequest request,
                                                                const core::Clock* clock = nullptr);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_LOCAL_TOKEN_H_
