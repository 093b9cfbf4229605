#include "libs/auth/policy_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

absl::Status FileError(const std::string& path, int error) {
  const std::string message = absl::StrCat("policy file ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<PolicyStore::FileVersion> StatFile(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return FileError(path, errno);
  PolicyStore::FileVersion version;
  version.size = info.st_size;
  version.mtime_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  version.inode = info.st_ino;
  version.device = info.st_dev;
  return version;
}

// Reads and parses the policy at `path`; errors name the file.
absl::StatusOr<Policy> Load(const std::string& path) {
  ASSIGN_OR_RETURN(PolicyFormat format, PolicyFormatForPath(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError(path, errno);
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return FileError(path, errno);
  absl::StatusOr<Policy> policy = Policy::Parse(text.str(), format);
  if (!policy.ok()) return core::WithContext(policy.status(), path);
  return policy;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Create(Options options) {
  if (options.path.empty()) return absl::InvalidArgumentError("a policy file path is required");
  // Stat first: a file replaced between the stat and the read is then seen again at the next
  // check, never missed.
  ASSIGN_OR_RETURN(FileVersion version, StatFile(options.path));
  ASSIGN_OR_RETURN(Policy policy, Load(options.path));
  return std::unique_ptr<PolicyStore>(new PolicyStore(
      std::move(options), std::make_shared<const Policy>(std::move(policy)), version));
}

PolicyStore::PolicyStore(Options options, std::shared_ptr<const Policy> policy, FileVersion version)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()),
      next_check_ns_(absl::ToUnixNanos(clock_->Now() + options_.reload_check_interval)),
      seen_(version),
      policy_(policy),
      file_policy_(std::move(policy)) {}

std::shared_ptr<const Policy> PolicyStore::Current() {
  const int64_t now_ns = absl::ToUnixNanos(clock_->Now());
  if (now_ns >= next_check_ns_.load(std::memory_order_acquire) && check_mu_.TryLock()) {
    // Another thread may have checked between the load and the lock.
    if (now_ns >= next_check_ns_.load(std::memory_order_acquire)) {
      CheckFile();
      next_check_ns_.store(absl::ToUnixNanos(clock_->Now() + options_.reload_check_interval),
                           std::memory_order_release);
    }
    check_mu_.Unlock();
  }
  absl::ReaderMutexLock lock(&mu_);
  return policy_;
}

void PolicyStore::CheckFile() {
  absl::StatusOr<FileVersion> version = StatFile(options_.path);
  absl::StatusOr<Policy> policy;
  if (version.ok()) {
    if (*version == seen_) return;
    seen_ = *version;
    policy = Load(options_.path);
  } else {
    if (seen_.size == -1) return;  // Already counted as missing.
    seen_ = FileVersion{};
    policy = version.status();
  }
  if (!policy.ok()) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    core::Log(core::LogLevel::kError, "policy_reload_failed",
              {{"path", options_.path},
               {"error", std::string(policy.status().message())},
               {"action", "keeping the policy in force"}});
    return;
  }
  auto fresh = std::make_shared<const Policy>(*std::move(policy));
  {
    absl::WriterMutexLock lock(&mu_);
    file_policy_ = std::move(fresh);
    Rebuild();
  }
  reloads_.fetch_add(1, std::memory_order_relaxed);
  core::Log(core::LogLevel::kInfo, "policy_reloaded", {{"path", options_.path}});
}

int PolicyStore::SetFollowedBindings(std::vector<Binding> bindings) {
  absl::WriterMutexLock lock(&mu_);
  followed_ = std::move(bindings);
  return Rebuild();
}

int PolicyStore::Rebuild() {
  if (followed_.empty()) {
    policy_ = file_policy_;
    return 0;
  }
  // The roles a followed binding may not grant, as for pattern bindings: the services' roles
  // and those that read across squads.
  absl::flat_hash_set<std::string> privileged;
  for (const Binding& binding : file_policy_->bindings()) {
    if (!binding.pattern && absl::StartsWith(binding.subject, "service:")) {
      privileged.insert(binding.role);
    }
  }
  for (const Grant& grant : file_policy_->grants()) {
    if (grant.scope == Scope::kAllSquads) privileged.insert(grant.role);
  }
  std::vector<Binding> all = file_policy_->bindings();
  int dropped = 0;
  for (const Binding& binding : followed_) {
    if (binding.pattern || binding.squad == kAllSquads || privileged.contains(binding.role)) {
      ++dropped;
      continue;
    }
    all.push_back(binding);
  }
  policy_ =
      std::make_shared<const Policy>(Policy::FromRules(file_policy_->grants(), std::move(all)));
  return dropped;
}

}  // namespace fabrique::auth
