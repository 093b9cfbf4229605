#ifndef FABRIQUE_LIBS_AUTH_POLICY_STORE_H_
#define FABRIQUE_LIBS_AUTH_POLICY_STORE_H_

// The policy a server enforces, read from a file and reloaded when the file changes, so an
// administrator edits a ConfigMap or `DATA_DIR/auth/policy.csv` without a restart.
//
//   PolicyStore::Options options;
//   options.path = "/etc/fabrique/policy.csv";
//   ASSIGN_OR_RETURN(std::unique_ptr<PolicyStore> store, PolicyStore::Create(options));
//   std::shared_ptr<const Policy> policy = store->Current();  // on every call
//
// A change is noticed by the file's size, modification time and inode (a ConfigMap update swaps
// a symlink, an editor may rename over the file). A file that fails to parse is logged and
// counted once, and the policy before it stays in force: a typo never opens or closes the door.
//
// Bindings from elsewhere (the tower's squad members) are added with SetFollowedBindings: the
// policy in force is then the file's grants with the file's bindings and those, rebuilt when
// either changes. The file stays the bootstrap: nothing followed removes what it grants. A
// followed binding grants no privileged role, as a pattern binding does not (policy_syntax.h):
// never a service role, never a role with a "*"-scoped grant; those are dropped.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/auth/policy.h"
#include "libs/core/clock.h"

namespace fabrique::auth {

class PolicyStore {
 public:
  struct Options {
    // The policy file; its extension says its format (.csv, .yaml, .yml). Required.
    std::string path;
    // How often Current() looks at the file for a change, at most. Default 2 s.
    absl::Duration reload_check_interval = absl::Seconds(2);
    // Time source for the interval; null = the real clock. Not owned.
    core::Clock* clock = nullptr;
  };

  // Reads and parses the file. A missing file is NOT_FOUND, an unreadable one
  // FAILED_PRECONDITION, a bad policy INVALID_ARGUMENT naming the file and the line or path:
  // "/etc/fabrique/policy.csv: line 7: unknown permission 'models.reed'".
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Create(Options options);

  // The policy in force. At most once per interval, the calling thread checks the file and
  // reloads it when it changed; other threads meanwhile get the policy in force without waiting.
  std::shared_ptr<const Policy> Current();

  // Replaces the followed bindings (plain bindings: subject, squad, role) and rebuilds the
  // policy in force. Returns how many were dropped as privileged.
  int SetFollowedBindings(std::vector<Binding> bindings);

  // Successful reloads since Create, and changed files that failed to load (each counted once).
  int64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  int64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }

  // Identifies a version of the file on disk.
  struct FileVersion {
    int64_t size = -1;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    uint64_t device = 0;
    bool operator==(const FileVersion& other) const {
      return size == other.size && mtime_ns == other.mtime_ns && inode == other.inode &&
             device == other.device;
    }
  };

 private:
  PolicyStore(Options options, std::shared_ptr<const Policy> policy, FileVersion version);
  // Reloads the file if it changed since the version last seen.
  void CheckFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(check_mu_);
  // The policy in force from the file's and the followed bindings; returns how many followed
  // bindings were dropped as privileged.
  int Rebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  core::Clock* const clock_;
  // When the next check is due, in nanoseconds since the Unix epoch.
  std::atomic<int64_t> next_check_ns_;
  std::atomic<int64_t> reloads_{0};
  std::atomic<int64_t> reload_failures_{0};

  // Held by the one thread checking the file; others skip the check.
  absl::Mutex check_mu_;
  FileVersion seen_ ABSL_GUARDED_BY(check_mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
  // The file's policy alone, and the bindings followed from elsewhere.
  std::shared_ptr<const Policy> file_policy_ ABSL_GUARDED_BY(mu_);
  std::vector<Binding> followed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::auth

#endif  // FABRIQUE_LIBS_AUTH_POLICY_STORE_H_
