#include "tools/cli/local_token.h"

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "libs/auth/token_mint.h"
#include "libs/auth/token_signing_key.h"
#include "libs/core/file_io.h"

namespace fabrique::cli {

std::string LocalUser(const Getenv& getenv) {
  std::string user = getenv("USER");
  return user.empty() ? "root" : user;
}

absl::StatusOr<std::string> MintWithKeyFile(const MintRequest& request, const core::Clock* clock) {
  if (request.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a token must be valid for some time; got a ttl of ", absl::FormatDuration(request.ttl)));
  }
  absl::StatusOr<std::string> pem = core::ReadSmallFile(request.signing_key_path);
  if (!pem.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot mint a token: ", pem.status().message(),
        ". Only whoever can read the signing key (the user running 'fabrique up') mints tokens; "
        "others ask them, or their identity provider, for one"));
  }
  absl::StatusOr<auth::SigningKey> key = auth::SigningKey::FromPem(*pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        request.signing_key_path, " is no token signing key: ", key.status().message()));
  }
  const absl::Time now = (clock != nullptr ? clock : core::Clock::Real())->Now();
  auth::TokenClaims claims;
  claims.subject = request.subject;
  claims.groups = request.groups;
  claims.issuer = request.issuer;
  claims.audience = request.audience;
  claims.issued_at = now;
  claims.expires = now + request.ttl;
  return auth::MintToken(*key, claims);
}

std::function<absl::StatusOr<std::string>()> MintingTokenSource(MintRequest request,
                                                                const core::Clock* clock) {
  struct Cache {
    std::mutex mu;
    std::string token;
    absl::Time refresh_at = absl::InfinitePast();
  };
  auto cache = std::make_shared<Cache>();
  if (clock == nullptr) clock = core::Clock::Real();
  return [request = std::move(request), clock, cache]() -> absl::StatusOr<std::string> {
    std::lock_guard<std::mutex> lock(cache->mu);
    const absl::Time now = clock->Now();
    if (now < cache->refresh_at) return cache->token;
    absl::StatusOr<std::string> token = MintWithKeyFile(request, clock);
    if (!token.ok()) return token.status();
    cache->token = *token;
    cache->refresh_at = now + request.ttl * 3 / 4;
    return cache->token;
  };
}

}  // namespace fabrique::cli
