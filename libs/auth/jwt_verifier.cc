#include "libs/auth/jwt_verifier.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/jwt_base64url.h"
#include "libs/auth/jwt_parts.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

// Longer tokens are refused before any work: gRPC's default metadata limit is 8 KiB, and an
// unbounded token would let one caller fill the cache with megabytes.
constexpr size_t kMaxTokenBytes = 16 * 1024;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(JwtVerifierOptions options) {
  if (options.jwks_path.empty()) return absl::InvalidArgumentError("jwks_path is required");
  if (options.issuer.empty()) return absl::InvalidArgumentError("issuer is required");
  if (options.audience.empty()) return absl::InvalidArgumentError("audience is required");
  if (options.clock_skew < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("clock_skew must not be negative");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  const FileVersion version = StatFile(options.jwks_path);
  ASSIGN_OR_RETURN(Jwks jwks, Jwks::ReadFile(options.jwks_path));
  return std::unique_ptr<JwtVerifier>(
      new JwtVerifier(std::move(options), std::move(jwks), version));
}

JwtVerifier::JwtVerifier(JwtVerifierOptions options, Jwks jwks, FileVersion version)
    : options_(std::move(options)),
      cache_(options_.cache_entries),
      keys_{std::make_shared<const Jwks>(std::move(jwks)), cache_.generation()},
      file_version_(version),
      next_check_ns_(absl::ToUnixNanos(options_.clock->Now() + options_.reload_check_interval)) {}

JwtVerifier::FileVersion JwtVerifier::StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileVersion{};
  return FileVersion{static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

void JwtVerifier::MaybeReload(absl::Time now) const {
  if (absl::ToUnixNanos(now) < next_check_ns_.load(std::memory_order_relaxed)) return;
  if (!reload_mu_.TryLock()) return;  // Another call is checking.
  next_check_ns_.store(absl::ToUnixNanos(now + options_.reload_check_interval));
  const FileVersion version = StatFile(options_.jwks_path);
  if (!(version == file_version_)) {
    // Remembered even when the load fails, so a bad file is reported once, not every interval;
    // the next change to it is tried again.
    file_version_ = version;
    absl::StatusOr<Jwks> jwks = Jwks::ReadFile(options_.jwks_path);
    if (jwks.ok()) {
      const size_t count = jwks->keys().size();
      {
        absl::MutexLock lock(&keys_mu_);
        keys_.jwks = std::make_shared<const Jwks>(*std::move(jwks));
        // Tokens verified with the old keys are verified again: a key may have been withdrawn.
        keys_.generation = cache_.Clear();
      }
      reloads_.fetch_add(1);
      core::Log(core::LogLevel::kInfo, "jwks_reloaded",
                {{"path", options_.jwks_path}, {"keys", static_cast<int64_t>(count)}});
    } else {
      reload_failures_.fetch_add(1);
      core::Log(core::LogLevel::kWarning, "jwks_reload_failed",
                {{"path", options_.jwks_path}, {"error", std::string(jwks.status().message())}});
    }
  }
  reload_mu_.Unlock();
}

JwtVerifier::KeySet JwtVerifier::CurrentKeys() const {
  absl::MutexLock lock(&keys_mu_);
  return keys_;
}

absl::StatusOr<VerifiedToken> JwtVerifier::Verify(absl::string_view token) const {
  const absl::Time now = options_.clock->Now();
  MaybeReload(now);
  std::shared_ptr<const JwtClaims> claims = cache_.Lookup(token);
  if (claims == nullptr) {
    const KeySet keys = CurrentKeys();
    ASSIGN_OR_RETURN(JwtClaims verified, VerifyUncached(*keys.jwks, token));
    claims = std::make_shared<const JwtClaims>(std::move(verified));
    RETURN_IF_ERROR(CheckTimes(*claims, now));
    cache_.Insert(token, claims, keys.generation);
  } else {
    RETURN_IF_ERROR(CheckTimes(*claims, now));
  }
  return VerifiedToken{claims->subject, claims->groups, claims->issuer, claims->expires};
}

absl::StatusOr<JwtClaims> JwtVerifier::VerifyUncached(const Jwks& keys,
                                                      absl::string_view token) const {
  if (token.size() > kMaxTokenBytes) {
    return absl::UnauthenticatedError(
        absl::StrCat("malformed token: longer than ", kMaxTokenBytes, " bytes"));
  }
  ASSIGN_OR_RETURN(const JwtParts parts, SplitJwt(token));
  const Jwk* key = nullptr;
  if (parts.kid) {
    key = keys.FindByKid(*parts.kid);
    if (key == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat("unknown key id '", *parts.kid, "'"));
    }
    if (key->alg != parts.alg) {
      return absl::UnauthenticatedError(absl::StrCat("key id '", *parts.kid, "' is for ",
                                                     JwtAlgName(key->alg), ", not ",
                                                     JwtAlgName(parts.alg)));
    }
  } else {
    key = keys.SoleKeyFor(parts.alg);
    if (key == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat(
          "token has no key id, and the key set has no single ", JwtAlgName(parts.alg), " key"));
    }
  }
  if (!VerifyJwsSignature(parts.alg, key->key.get(), parts.signing_input, parts.signature)) {
    return absl::UnauthenticatedError("bad signature");
  }
  const std::optional<std::string> payload = Base64UrlDecode(parts.encoded_payload);
  if (!payload) return absl::UnauthenticatedError("malformed token: payload is not base64url");
  ASSIGN_OR_RETURN(JwtClaims claims, ParseJwtClaims(*payload));
  if (claims.issuer != options_.issuer) {
    return absl::UnauthenticatedError(
        absl::StrCat("token is from issuer ", claims.issuer, ", not ", options_.issuer));
  }
  if (std::find(claims.audiences.begin(), claims.audiences.end(), options_.audience) ==
      claims.audiences.end()) {
    return absl::UnauthenticatedError(absl::StrCat("token is for audience ",
                                                   absl::StrJoin(claims.audiences, ", "), ", not ",
                                                   options_.audience));
  }
  return claims;
}

absl::Status JwtVerifier::CheckTimes(const JwtClaims& claims, absl::Time now) const {
  if (now >= claims.expires + options_.clock_skew) {
    return absl::UnauthenticatedError(absl::StrCat("token expired at ", Rfc3339(claims.expires)));
  }
  if (now < claims.not_before - options_.clock_skew) {
    return absl::UnauthenticatedError(
        absl::StrCat("token not valid before ", Rfc3339(claims.not_before)));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::auth
