#ifndef FABRIQUE_LIBS_SERVER_SIGNALS_H_
#define FABRIQUE_LIBS_SERVER_SIGNALS_H_

// Graceful shutdown starts with SIGTERM (Kubernetes) or SIGINT (Ctrl-C). The signals are blocked
// in every thread and collected synchronously by one waiter, so no handler runs in an arbitrary
// thread and shutdown happens in ordinary code.

#include <atomic>

#include "absl/time/time.h"

namespace fabrique::server {

// Blocks SIGTERM and SIGINT in the calling thread. Call it first in main(), before any thread is
// created: threads inherit the mask, so the signals then reach only WaitForTerminationSignal.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives (returns its number) or until `*stop` becomes true
// (returns 0). Checks `stop` every `poll` interval.
int WaitForTerminationSignal(const std::atomic<bool>* stop,
                             absl::Duration poll = absl::Milliseconds(100));

// Waits at most `timeout` for SIGTERM or SIGINT; returns its number, or 0 if none came.
int WaitForTerminationSignalFor(absl::Duration timeout);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SIGNALS_H_
