#include "testutil/kill_when_ready.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace orgtrail::testutil {

std::string KillWhenReady(const std::function<void(const std::function<void()>& ready)>& body,
                          std::chrono::microseconds delay) {
  int ready_pipe[2];
  if (pipe(ready_pipe) != 0) return "pipe failed";
  const pid_t child = fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    close(ready_pipe[0]);
    body([&] { (void)!write(ready_pipe[1], "x", 1); });
    _exit(3);
  }
  close(ready_pipe[1]);
  char c;
  const bool signalled = read(ready_pipe[0], &c, 1) == 1;
  close(ready_pipe[0]);
  if (signalled) std::this_thread::sleep_for(delay);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status) && signalled) return "";
  if (WIFEXITED(status)) return "the child exited by itself with status " + std::to_string(WEXITSTATUS(status));
  return "the child died before it was ready";
}

}  // namespace orgtrail::testutil
