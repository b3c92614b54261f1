#include "testutil/subprocess.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "testutil/sanitizer_report.h"

extern char** environ;

namespace orgtrail::testutil {
namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The child's environment: the parent's plus the overrides.
std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (overrides.count(key) == 0) env.push_back(entry);
  }
  for (const auto& [key, value] : overrides) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> PointerArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls. Reports an exec
// failure's errno through error_fd and exits 127.
[[noreturn]] void ExecChild(int stdin_fd, int stdout_fd, int stderr_fd, int error_fd,
                            pid_t parent, const char* working_dir, char* const* argv,
                            char* const* envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent already died
  ::setpgid(0, 0);
  ::dup2(stdin_fd, 0);
  ::dup2(stdout_fd, 1);
  ::dup2(stderr_fd, 2);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int err = 0;
  if (working_dir != nullptr && ::chdir(working_dir) != 0) {
    err = errno;
  } else {
    ::execve(argv[0], argv, envp);
    err = errno;
  }
  ssize_t ignored = ::write(error_fd, &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

}  // namespace

StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(const SubprocessOptions& options) {
  if (options.binary.empty()) return absl::InvalidArgumentError("Subprocess: empty binary path");
  if (options.log_dir.empty()) return absl::InvalidArgumentError("Subprocess: log_dir is required");
  if (::access(options.binary.c_str(), X_OK) != 0) {
    return absl::InvalidArgumentError("Subprocess: '" + options.binary +
                                      "' is not executable: " + std::strerror(errno));
  }
  std::unique_ptr<Subprocess> proc(new Subprocess());
  proc->name_ = options.name.empty() ? BaseName(options.binary) : options.name;
  proc->stdout_path_ = options.log_dir + "/" + proc->name_ + ".stdout";
  proc->stderr_path_ = options.log_dir + "/" + proc->name_ + ".stderr";

  std::vector<std::string> argv_strings = {options.binary};
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_strings = BuildEnvironment(options.env);
  std::vector<char*> argv = PointerArray(argv_strings);
  std::vector<char*> envp = PointerArray(env_strings);

  const std::string stdin_path = options.stdin_path.empty() ? "/dev/null" : options.stdin_path;
  int stdin_fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  int stdout_fd = ::open(proc->stdout_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int stderr_fd = ::open(proc->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int error_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {stdin_fd, stdout_fd, stderr_fd, error_pipe[0], error_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (stdin_fd < 0 || stdout_fd < 0 || stderr_fd < 0 || ::pipe2(error_pipe, O_CLOEXEC) != 0) {
    std::string why = std::strerror(errno);
    close_all();
    return absl::UnavailableError("Subprocess: cannot open log files in '" + options.log_dir +
                                  "': " + why);
  }
  const pid_t parent = ::getpid();
  const char* working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    std::string why = std::strerror(errno);
    close_all();
    return absl::UnavailableError("Subprocess: fork: " + why);
  }
  if (pid == 0) {
    ExecChild(stdin_fd, stdout_fd, stderr_fd, error_pipe[1], parent, working_dir, argv.data(),
              envp.data());
  }
  ::close(error_pipe[1]);
  error_pipe[1] = -1;
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close_all();
  proc->pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    proc->Reap(status);
    return absl::InvalidArgumentError("Subprocess: cannot execute '" + options.binary +
                                      "': " + std::strerror(child_errno));
  }
  return proc;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t rc;
    while ((rc = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    // A child the test left to the destructor is scanned too: its races happened while it ran.
    if (rc == pid_) Reap(status);
  }
}

void Subprocess::Reap(int wait_status) {
  exited_ = true;
  wait_status_ = wait_status;
  // A sanitizer report fails the test, whatever the process's exit status (see sanitizer_report.h).
  if (auto report = FindSanitizerReport(ReadStderr())) {
    ADD_FAILURE() << name_ << " (" << stderr_path_ << ") printed a sanitizer report:\n" << *report;
  }
}

bool Subprocess::Kill(int signal) {
  if (pid_ <= 0 || exited_) return false;
  return ::kill(pid_, signal) == 0;
}

bool Subprocess::Running() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  pid_t rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    Reap(status);
    return false;
  }
  return true;
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto sleep = std::chrono::milliseconds(1);
  while (true) {
    if (!Running()) {
      if (exited_) return wait_status_;
      return std::nullopt;  // never started
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::milliseconds(50));
  }
}

int Subprocess::Stop(std::chrono::milliseconds grace) {
  if (!exited_) {
    Kill(SIGCONT);  // a stopped process cannot handle SIGTERM
    Kill(SIGTERM);
    if (!Wait(grace).has_value()) {
      Kill(SIGKILL);
      Wait(std::chrono::seconds(60));
    }
  }
  return wait_status_;
}

int Subprocess::ExitCode() const {
  if (!exited_ || !WIFEXITED(wait_status_)) return -1;
  return WEXITSTATUS(wait_status_);
}

int Subprocess::TermSignal() const {
  if (!exited_ || !WIFSIGNALED(wait_status_)) return 0;
  return WTERMSIG(wait_status_);
}

std::string Subprocess::DescribeExit() const {
  if (!exited_) return "running";
  if (WIFEXITED(wait_status_)) return "exit code " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status_)) + " (" +
           strsignal(WTERMSIG(wait_status_)) + ")";
  }
  return "wait status " + std::to_string(wait_status_);
}

std::string Subprocess::ReadStdout() const { return ReadWholeFile(stdout_path_); }
std::string Subprocess::ReadStderr() const { return ReadWholeFile(stderr_path_); }

std::string Subprocess::ReadLog() const {
  return "--- " + name_ + " stdout ---\n" + ReadStdout() + "--- " + name_ + " stderr ---\n" +
         ReadStderr();
}

}  // namespace orgtrail::testutil
