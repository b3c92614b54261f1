// Subprocess: runs a real binary for an integration test, with its stdout and
// stderr sent to files in a log directory, and control over its life:
// signals (SIGTERM, SIGKILL, SIGSTOP, SIGCONT, ...), waiting with a timeout,
// exit status. The destructor SIGKILLs and reaps a child still running, and
// the child also gets SIGKILL if the thread that started it dies
// (PR_SET_PDEATHSIG), so a crashed test leaves no process behind: start
// subprocesses from the test's main thread. When a child is reaped its stderr
// is scanned for sanitizer reports, and one fails the current test
// (sanitizer_report.h).
// Not thread-safe: one owner drives one child.
#ifndef ORGTRAIL_TESTS_TESTUTIL_SUBPROCESS_H_
#define ORGTRAIL_TESTS_TESTUTIL_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orgtrail/common/status.h"

namespace orgtrail::testutil {

struct SubprocessOptions {
  std::string binary;                      // path to the executable
  std::vector<std::string> args;           // argv[1..]
  std::map<std::string, std::string> env;  // added to (or overriding) the test's environment
  std::string log_dir;                     // where <name>.stdout / <name>.stderr go (required)
  std::string name;                        // log file stem; default: the binary's file name
  std::string working_dir;                 // default: the test's working directory
  std::string stdin_path;                  // default: /dev/null
};

class Subprocess {
 public:
  // Starts the process. Fails (no child left) if the binary cannot be
  // executed or the log files cannot be created.
  static StatusOr<std::unique_ptr<Subprocess>> Start(const SubprocessOptions& options);

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t Pid() const { return pid_; }
  const std::string& name() const { return name_; }

  // Sends a signal; false if the process is already reaped or kill() failed.
  bool Kill(int signal);

  // True while the child has not exited (a stopped child is running).
  bool Running();

  // Waits up to `timeout` for the child to exit. Returns the raw wait status
  // (use WIFEXITED etc. or the helpers below), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  // Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the wait status.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // After the child exited: its exit code, or -1 if it died by a signal.
  bool exited() const { return exited_; }
  int ExitCode() const;
  int TermSignal() const;  // 0 if it exited normally
  std::string DescribeExit() const;  // "exit code 0", "killed by signal 9", "running"

  std::string stdout_path() const { return stdout_path_; }
  std::string stderr_path() const { return stderr_path_; }
  std::string ReadStdout() const;
  std::string ReadStderr() const;
  // stdout then stderr, for failure messages.
  std::string ReadLog() const;

 private:
  Subprocess() = default;
  void Reap(int wait_status);

  pid_t pid_ = -1;
  std::string name_;
  std::string stdout_path_;
  std::string stderr_path_;
  bool exited_ = false;
  int wait_status_ = 0;
};

}  // namespace orgtrail::testutil

#endif  // ORGTRAIL_TESTS_TESTUTIL_SUBPROCESS_H_
