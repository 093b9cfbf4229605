#ifndef FABRIQUE_TESTS_UTIL_CHILD_EXIT_H_
#define FABRIQUE_TESTS_UTIL_CHILD_EXIT_H_

// Runs a test's body in a forked child, for what must not touch the test process itself: its
// limits, its allocator's arenas.

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace fabrique::testing {

// Forks, runs `body` in the child and exits with what it returns (0..255); returns that exit
// code, or -1 when the fork failed or the child did not exit normally.
inline int ExitCodeInChild(const std::function<int()>& body) {
  const pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) _exit(body());
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace fabrique::testing

#endif  // FABRIQUE_TESTS_UTIL_CHILD_EXIT_H_
