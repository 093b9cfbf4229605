#include "libs/auth/jwt_cache.h"

namespace fabrique::auth {

std::shared_ptr<const JwtClaims> VerifiedTokenCache::Lookup(absl::string_view token) const {
  absl::MutexLock lock(&mu_);
  const auto it = entries_.find(token);
  return it == entries_.end() ? nullptr : it->second;
}

void VerifiedTokenCache::Insert(absl::string_view token, std::shared_ptr<const JwtClaims> claims,
                                uint64_t generation) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;
  const auto [it, inserted] = entries_.try_emplace(std::string(token), std::move(claims));
  if (!inserted) return;
  order_.push_back(it->first);
  while (order_.size() > capacity_) {
    // Found first, then erased: the key viewed by order_.front() dies with its entry.
    entries_.erase(entries_.find(order_.front()));
    order_.pop_front();
  }
}

uint64_t VerifiedTokenCache::Clear() {
  absl::MutexLock lock(&mu_);
  order_.clear();
  entries_.clear();
  return ++generation_;
}

uint64_t VerifiedTokenCache::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

size_t VerifiedTokenCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace fabrique::auth
