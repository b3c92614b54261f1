// KillWhenReady: the crash-consistency tests' fork pattern. A child process runs `body`, which
// calls `ready()` once the parent may kill it and then goes on (or blocks); the parent waits for
// that signal, sleeps `delay`, sends SIGKILL and reaps the child.
// Use it only from a test's main thread; the child must not return from `body` before it is
// killed (it then exits with status 3). Not for TSan builds (fork of a threaded process).
#ifndef ORGTRAIL_TESTS_TESTUTIL_KILL_WHEN_READY_H_
#define ORGTRAIL_TESTS_TESTUTIL_KILL_WHEN_READY_H_

#include <chrono>
#include <functional>
#include <string>

namespace orgtrail::testutil {

// Empty when the child was killed as planned; otherwise what went wrong (the child exited by
// itself, with its status, or the fork or the pipe failed).
std::string KillWhenReady(const std::function<void(const std::function<void()>& ready)>& body,
                          std::chrono::microseconds delay = std::chrono::microseconds(0));

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_KILL_WHEN_READY_H_
