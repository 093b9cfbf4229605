#ifndef FABRIQUE_LIBS_AUTH_JWT_CACHE_H_
#define FABRIQUE_LIBS_AUTH_JWT_CACHE_H_

// Tokens whose signature, issuer and audience have been verified, keyed by the token's bytes, so
// a caller presenting the same token again costs a hash lookup instead of a signature check. Times
// are not settled by a hit: the verifier checks "exp" and "nbf" against its clock on every call.
//
// Bounded: past `capacity` entries the oldest is dropped (first in, first out; a token's callers
// are bursty, and FIFO needs no bookkeeping on a hit, which keeps the lock short). Entries carry
// the generation of the key set they were verified with; Clear starts a new generation, so a
// verification that raced a key reload cannot put a token signed by a removed key back.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/auth/jwt_claims.h"

namespace fabrique::auth {

class VerifiedTokenCache {
 public:
  // `capacity`: entries kept; 0 turns the cache off.
  explicit VerifiedTokenCache(size_t capacity) : capacity_(capacity) {}

  // Returns the claims cached for `token`, or null.
  std::shared_ptr<const JwtClaims> Lookup(absl::string_view token) const;

  // Caches `claims` for `token` if `generation` is still the current one.
  void Insert(absl::string_view token, std::shared_ptr<const JwtClaims> claims,
              uint64_t generation);

  // Drops every entry and starts a new generation; returns it.
  uint64_t Clear();

  uint64_t generation() const;
  size_t size() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  // node_hash_map: keys stay put, so `order_` can point at them.
  absl::node_hash_map<std::string, std::shared_ptr<const JwtClaims>> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::string_view> order_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_JWT_CACHE_H_
