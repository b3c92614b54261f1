// WaitFor: polls a condition until it holds or a deadline passes. Tests wait
// on conditions with generous deadlines (machines are loaded) instead of
// sleeping a fixed time. Header-only; thread-compatible.
#ifndef ORGTRAIL_TESTS_TESTUTIL_WAIT_FOR_H_
#define ORGTRAIL_TESTS_TESTUTIL_WAIT_FOR_H_

#include <chrono>
#include <functional>
#include <thread>

namespace orgtrail::testutil {

// Returns true as soon as predicate() returns true (it is called at least
// once), false if it still does not hold after `timeout`.
inline bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_WAIT_FOR_H_
