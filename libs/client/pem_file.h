#ifndef FABRIQUE_LIBS_CLIENT_PEM_FILE_H_
#define FABRIQUE_LIBS_CLIENT_PEM_FILE_H_

// The check every TLS file gets before gRPC watches it. gRPC's file watcher only logs a file it
// cannot read and fails every handshake after, so a server or client would start and then refuse
// everyone; checking first turns that into one clear error at start.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace fabrique::client {

// OK when `path` can be read and holds PEM ("-----BEGIN ..."). FAILED_PRECONDITION naming `what`
// ("the server's TLS certificate") and the path otherwise: missing, unreadable, empty, not PEM.
absl::Status CheckPemFile(const std::string& path, absl::string_view what);

// `interval` as gRPC's file watcher takes it: whole seconds, rounded up, at least 1.
unsigned int WatchIntervalSeconds(absl::Duration interval);

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_PEM_FILE_H_
