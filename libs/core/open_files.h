#ifndef FABRIQUE_LIBS_CORE_OPEN_FILES_H_
#define FABRIQUE_LIBS_CORE_OPEN_FILES_H_

// The process's limit on open descriptors (RLIMIT_NOFILE), which every file, socket and RocksDB
// table counts against.
//
// Container runtimes and systemd commonly start a process with a soft limit of 1024 and a hard
// limit hundreds of times higher, leaving it to the program to raise the first (Go's runtime, for
// one, does so at start). A store whose files alone pass 1024 then fails its next open or accept
// with EMFILE: the services raise it (ServiceMain), and kv::Store holds a share of it open.

#include <cstdint>

#include "absl/status/statusor.h"

namespace fabrique::core {

// The soft limit now; -1 when it cannot be read or is unlimited.
int64_t OpenFileLimit();

// Raises the soft limit to the hard one, or to the kernel's ceiling (/proc/sys/fs/nr_open) when
// the hard one is unlimited, and returns the soft limit in force after. Never lowers it.
// INTERNAL when getrlimit or setrlimit fails, naming the limits involved.
absl::StatusOr<int64_t> RaiseOpenFileLimit();

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_OPEN_FILES_H_
