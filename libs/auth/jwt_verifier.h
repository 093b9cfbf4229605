#ifndef FABRIQUE_LIBS_AUTH_JWT_VERIFIER_H_
#define FABRIQUE_LIBS_AUTH_JWT_VERIFIER_H_

// Verifies bearer tokens (JWTs signed RS256 or ES256) against a JWKS file: signature, issuer,
// audience, expiry and not-before, with a small allowance for clock skew. Thread-safe; one
// instance serves every call of a server.
//
//   JwtVerifierOptions options;
//   options.jwks_path = dir + "/jwks.json";
//   options.issuer = "fabrique-local";
//   options.audience = "fabrique";
//   ASSIGN_OR_RETURN(std::unique_ptr<JwtVerifier> verifier, JwtVerifier::Create(options));
//   absl::StatusOr<VerifiedToken> token = verifier->Verify(bearer);
//
// Every refusal is UNAUTHENTICATED and names its reason, for the caller to fix their credentials:
//   "token expired at 2023-11-14T22:13:20Z", "token not valid before ...",
//   "token is for audience X, not Y", "token is from issuer X, not Y", "bad signature",
//   "unknown key id 'k'", "alg 'none' is not accepted", "malformed token: ...".
//
// A verified token is cached (keyed by its bytes), so presenting it again costs a hash lookup;
// its times are still checked against the clock on every call. The JWKS file is watched: every
// `reload_check_interval` a call looks at its inode, size and mtime, and reloads it when they
// changed (key rotation without a restart). A reload that fails keeps the keys in use.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/auth/jwks.h"
#include "libs/auth/jwt_cache.h"
#include "libs/core/clock.h"

namespace fabrique::auth {

// Who a verified token speaks for.
struct VerifiedToken {
  std::string subject;              // "sub": the user.
  std::vector<std::string> groups;  // "groups"; empty when the token has none.
  std::string issuer;               // "iss".
  absl::Time expires;               // "exp".
};

struct JwtVerifierOptions {
  // The JWKS file of the keys tokens are signed with. Required.
  std::string jwks_path;
  // The "iss" tokens must carry, e.g. "fabrique-local". Required.
  std::string issuer;
  // The audience tokens must be for ("aud", a string or one of an array), e.g. "fabrique".
  // Required.
  std::string audience;
  // How far the issuer's clock and ours may disagree: a token is accepted until exp + skew and
  // from nbf - skew. Default 60 s.
  absl::Duration clock_skew = absl::Seconds(60);
  // The clock tokens' times and the reload interval are read from. Not owned; default the real
  // clock.
  const core::Clock* clock = nullptr;
  // How many verified tokens are cached. 0 turns the cache off. Default 10000.
  size_t cache_entries = 10000;
  // How often a call checks whether the JWKS file changed (inode, size, mtime). Default 5 s.
  absl::Duration reload_check_interval = absl::Seconds(5);
};

class JwtVerifier {
 public:
  // Loads the JWKS file. INVALID_ARGUMENT when a required option is missing or the file holds no
  // usable key, NOT_FOUND when it does not exist, FAILED_PRECONDITION when it cannot be read;
  // the message names the file.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(JwtVerifierOptions options);

  // Returns who `token` (the compact JWS, without "Bearer ") speaks for, or UNAUTHENTICATED with
  // the reason it is refused.
  absl::StatusOr<VerifiedToken> Verify(absl::string_view token) const;

  // How many times a changed JWKS file could not be loaded (the old keys stayed in use).
  int64_t jwks_reload_failures() const { return reload_failures_.load(); }
  // How many times a changed JWKS file was loaded.
  int64_t jwks_reloads() const { return reloads_.load(); }
  // How many verified tokens are cached now.
  size_t cached_tokens() const { return cache_.size(); }

 private:
  // What tells one version of the JWKS file from another.
  struct FileVersion {
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileVersion& o) const {
      return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
    }
  };
  struct KeySet {
    std::shared_ptr<const Jwks> jwks;
    uint64_t generation;  // The cache generation entries verified with these keys belong to.
  };

  JwtVerifier(JwtVerifierOptions options, Jwks jwks, FileVersion version);

  static FileVersion StatFile(const std::string& path);
  // Reloads the JWKS file if the check interval has passed and the file changed.
  void MaybeReload(absl::Time now) const;
  KeySet CurrentKeys() const;
  // Checks signature, issuer and audience, without the cache.
  absl::StatusOr<JwtClaims> VerifyUncached(const Jwks& keys, absl::string_view token) const;
  absl::Status CheckTimes(const JwtClaims& claims, absl::Time now) const;

  const JwtVerifierOptions options_;
  mutable VerifiedTokenCache cache_;

  mutable absl::Mutex keys_mu_;
  mutable KeySet keys_ ABSL_GUARDED_BY(keys_mu_);

  // Held by the one call that checks the file; others go on with the current keys.
  mutable absl::Mutex reload_mu_;
  mutable FileVersion file_version_ ABSL_GUARDED_BY(reload_mu_);
  // When the next check is due, in Unix nanoseconds: read without a lock on every call.
  mutable std::atomic<int64_t> next_check_ns_;
  mutable std::atomic<int64_t> reload_failures_{0};
  mutable std::atomic<int64_t> reloads_{0};
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_VERIFIER_H_
