#include "libs/server/signals.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <ctime>

namespace fabrique::server {
namespace {

sigset_t TerminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignalFor(absl::Duration timeout) {
  const sigset_t set = TerminationSet();
  const timespec wait = absl::ToTimespec(timeout);
  const int signal = sigtimedwait(&set, nullptr, &wait);
  // -1 with EAGAIN is the timeout; EINTR is another signal. Neither is a termination request.
  return signal > 0 ? signal : 0;
}

int WaitForTerminationSignal(const std::atomic<bool>* stop, absl::Duration poll) {
  while (stop == nullptr || !stop->load()) {
    if (const int signal = WaitForTerminationSignalFor(poll); signal != 0) return signal;
  }
  return 0;
}

}  // namespace fabrique::server
