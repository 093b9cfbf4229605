#ifndef FABRIQUE_LIBS_SERVER_DATA_DIR_LOCK_H_
#define FABRIQUE_LIBS_SERVER_DATA_DIR_LOCK_H_

// A folder claimed by one running process, so that a second one pointed at it is refused with
// who holds it: "fabrique-features is already running on DIR (pid 4242): stop it first or pass
// another --data_dir", rather than RocksDB's "While lock file: DIR/kv/LOCK: Resource temporarily
// unavailable". The claim is an exclusive flock(2) on DIR/fabrique.pid, which also holds the
// holder's pid and name. The kernel drops it when the process ends, however it ends (a crash,
// SIGKILL), so a file left behind never blocks the next start.
//
//   ASSIGN_OR_RETURN(auto lock, DataDirLock::Acquire({data_dir, "fabrique-features"}));
//   ... open the state under data_dir; `lock` outlives it ...

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace fabrique::server {

class DataDirLock {
 public:
  // Name of the file in the folder that carries the lock and the holder's pid.
  static constexpr char kFileName[] = "fabrique.pid";

  struct Options {
    // Folder to claim; created with its parents if missing. Required.
    std::string dir;
    // Who claims it, as a refusal names the holder: "fabrique-features", "fabrique". Required.
    std::string owner;
    // Called between opening the file and locking it. A seam for tests that replace the file in
    // that window, as a holder's clean-up could. Default: empty = nothing.
    std::function<void()> before_lock;
  };

  // Errors: INVALID_ARGUMENT for missing options; FAILED_PRECONDITION when the folder cannot be
  // created or the file cannot be opened; UNAVAILABLE when another process (or another lock in
  // this one) holds it, naming the holder and its pid as the file gives them.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(Options options);

  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  // A lock is only kept on the file that is at the path once it is taken: if the file was
  // replaced or removed between the open and the lock, Acquire tries again on the new one, so two
  // processes never hold two files of the same name. (Removing the file of a running holder by
  // hand still lets a second process in, as with any pid file; each service's state then stays
  // protected by its store's own lock.)
  //
  // Releases the claim. The file stays: removing it could let two processes lock two files.
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_DATA_DIR_LOCK_H_
