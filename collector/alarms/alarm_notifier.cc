// AlarmNotifier (alarm_notifier.h): JSON body, webhook POST over a plain
// socket, command via fork/exec, and the delivery thread.
#include "collector/alarms/alarm_notifier.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "collector/alarms/webhook_client.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {

namespace {

void AppendString(std::string* out, std::string_view key, std::string_view value) {
  out->push_back('"');
  out->append(key.data(), key.size());
  out->append("\":\"");
  AppendJsonEscaped(out, value);
  out->push_back('"');
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits until fd is ready for `events` or the deadline (monotonic ms) passes.
bool WaitFd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t left = deadline_ms - MonotonicMs();
    if (left <= 0) return false;
    struct pollfd pfd = {fd, events, 0};
    int r = poll(&pfd, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::string FormatAlarmNotification(const AlarmTransition& transition, std::string_view collector_id) {
  const AlarmConfig& alarm = *transition.alarm;
  std::string out = "{";
  AppendString(&out, "AlarmName", alarm.name);
  out += ",";
  AppendString(&out, "AlarmDescription", alarm.description);
  out += ",";
  AppendString(&out, "NewStateValue", AlarmStateName(transition.new_state));
  out += ",";
  AppendString(&out, "OldStateValue", AlarmStateName(transition.old_state));
  out += ",";
  AppendString(&out, "NewStateReason", transition.reason);
  out += ",";
  AppendString(&out, "StateChangeTime", FormatRfc3339Seconds(transition.time_us));
  out += ",\"Trigger\":{";
  AppendString(&out, "MetricName", alarm.metric_name);
  out += ",";
  AppendString(&out, "Namespace", alarm.metric_namespace);
  out += ",";
  AppendString(&out, "Statistic", AlarmStatisticName(alarm.statistic));
  out += ",\"Period\":" + std::to_string(alarm.period_seconds);
  out += ",\"EvaluationPeriods\":" + std::to_string(alarm.evaluation_periods);
  out += ",\"DatapointsToAlarm\":" + std::to_string(alarm.datapoints_to_alarm);
  out += ",";
  AppendString(&out, "ComparisonOperator", ComparisonOperatorName(alarm.comparison));
  out += ",\"Threshold\":" + Number(alarm.threshold);
  out += ",";
  AppendString(&out, "TreatMissingData", TreatMissingDataName(alarm.treat_missing_data));
  out += "},\"orgtrail\":{";
  AppendString(&out, "collector", collector_id);
  out += ",\"state_change_time_us\":" + std::to_string(transition.time_us);
  out += ",\"datapoints\":[";
  for (size_t i = 0; i < transition.datapoints.size(); ++i) {
    const auto& point = transition.datapoints[i];
    if (i) out += ",";
    out += "{";
    AppendString(&out, "period_start", FormatRfc3339Seconds(point.period_start_us));
    out += point.missing ? ",\"value\":null}" : ",\"value\":" + Number(point.value) + "}";
  }
  out += "],\"samples\":[";
  for (size_t i = 0; i < transition.samples.size(); ++i) {
    const auto& s = transition.samples[i];
    if (i) out += ",";
    out += "{";
    AppendString(&out, "eventID", s.event_id);
    out += ",";
    AppendString(&out, "eventName", s.event_name);
    out += ",";
    AppendString(&out, "recipientAccountId", s.account_id);
    out += ",";
    AppendString(&out, "awsRegion", s.region);
    out += ",";
    AppendString(&out, "username", s.username);
    out += ",\"receipt_time_us\":" + std::to_string(s.time_us) + "}";
  }
  out += "]}}";
  return out;
}

// Blocks SIGPIPE in the calling thread for its lifetime, so that a write to a pipe whose reader
// is gone fails with EPIPE instead of killing the process (whatever thread calls, whatever the
// process's disposition); a SIGPIPE raised meanwhile is consumed before the mask is restored.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ~ScopedSigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_set_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

Status RunNotificationCommand(const std::vector<std::string>& argv, std::string_view body, int64_t timeout_ms) {
  if (argv.empty()) return absl::InvalidArgumentError("command: empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::UnavailableError(std::string("command: pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::UnavailableError(std::string("command: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(pipe_fds[0], 0);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[0]);
  int64_t deadline = MonotonicMs() + timeout_ms;
  int flags = fcntl(pipe_fds[1], F_GETFL);
  fcntl(pipe_fds[1], F_SETFL, flags | O_NONBLOCK);
  size_t written = 0;
  bool write_failed = false;
  ScopedSigpipeBlock no_sigpipe;  // after fork: the command keeps the default disposition
  while (written < body.size()) {
    ssize_t n = write(pipe_fds[1], body.data() + written, body.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && WaitFd(pipe_fds[1], POLLOUT, deadline)) continue;
    write_failed = true;  // EPIPE (the command did not read) or timeout
    break;
  }
  close(pipe_fds[1]);
  int status = 0;
  bool exited = false;
  while (MonotonicMs() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exited = true;
      break;
    }
    if (r < 0 && errno != EINTR) break;
    usleep(5000);
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return absl::DeadlineExceededError("command: '" + argv[0] + "' did not finish within " + std::to_string(timeout_ms) +
                                       " ms (killed)");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::UnavailableError("command: cannot execute '" + argv[0] + "' (exit 127)");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnavailableError("command: '" + argv[0] + "' failed (status " + std::to_string(status) + ")");
  }
  if (write_failed && written < body.size()) {
    return absl::UnavailableError("command: '" + argv[0] + "' did not read the whole notification");
  }
  return absl::OkStatus();
}

AlarmNotifier::AlarmNotifier(std::vector<NotificationTarget> targets, Logger* logger, MetricsRegistry* metrics,
                             size_t max_queue, std::string outbox_dir)
    : targets_(std::move(targets)),
      logger_(logger),
      metrics_(metrics),
      max_queue_(max_queue),
      outbox_dir_(std::move(outbox_dir)) {}

AlarmNotifier::~AlarmNotifier() { Stop(); }

const NotificationTarget* AlarmNotifier::FindTarget(const std::string& name) const {
  for (const auto& t : targets_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status AlarmNotifier::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return absl::OkStatus();
  if (!outbox_dir_.empty()) {
    auto outbox = AlarmOutbox::Open(outbox_dir_);
    if (!outbox.ok()) return outbox.status();
    outbox_ = std::move(*outbox);
    std::vector<std::string> corrupt;
    for (OutboxEntry& entry : outbox_->Load(&corrupt)) {
      const NotificationTarget* target = FindTarget(entry.target);
      if (target == nullptr) {
        if (logger_) logger_->Error("undelivered alarm notification for a target no longer configured; kept in the outbox",
                                    {{"target", entry.target}, {"seq", entry.seq}});
        continue;
      }
      Job job;
      job.target = target;
      job.body = std::move(entry.body);
      job.outbox_seq = entry.seq;
      job.delivery_id = std::move(entry.delivery_id);
      queue_.push_back(std::move(job));
    }
    for (const auto& name : corrupt) {
      if (logger_) logger_->Error("unreadable alarm outbox file set aside (*.corrupt)", {{"file", name}});
    }
    if (logger_ && !queue_.empty()) {
      logger_->Info("alarm notifications left undelivered by an earlier run queued again",
                    {{"count", static_cast<uint64_t>(queue_.size())}});
    }
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void AlarmNotifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlarmNotifier::Notify(const std::vector<std::string>& target_names, std::string body) {
  for (const auto& name : target_names) {
    const NotificationTarget* target = FindTarget(name);
    if (!target) {
      if (logger_) logger_->Warn("alarm notification target not found", {{"target", name}});
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= max_queue_) {
      ++failed_;
      if (metrics_) {
        metrics_->GetCounter("orgtrail_alarm_notifications_total", "Alarm notifications by target and result",
                             {{"target", name}, {"result", "dropped"}})->Increment();
      }
      if (logger_) logger_->Error("alarm notification dropped: queue full", {{"target", name}});
      continue;
    }
    Job job;
    job.target = target;
    job.body = body;
    if (outbox_ != nullptr) {
      auto entry = outbox_->Add(name, body);
      if (entry.ok()) {
        job.outbox_seq = entry->seq;
        job.delivery_id = entry->delivery_id;
      } else if (logger_) {
        logger_->Error("alarm notification not made durable (delivered from memory only)",
                       {{"target", name}, {"error", entry.status().ToString()}});
      }
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
}

size_t AlarmNotifier::outbox_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_ == nullptr ? 0 : outbox_->size();
}

uint64_t AlarmNotifier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

uint64_t AlarmNotifier::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

Status AlarmNotifier::Deliver(const Job& job) {
  const NotificationTarget& target = *job.target;
  if (target.type == NotificationTarget::Type::kCommand) {
    return RunNotificationCommand(target.argv, job.body, target.timeout_ms);
  }
  Status status;
  const int64_t backoff_ms[] = {200, 1000};
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = PostWebhook(target, job.body, job.delivery_id);
    if (status.ok() || attempt == 2) break;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms[attempt]), [this] { return stopping_; });
    }
  }
  return status;
}

void AlarmNotifier::Run() {
  // Writes to a command that exited early must fail with EPIPE, not kill us.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (!queue_.empty()) break;
        if (stopping_) return;  // drained; retries stay in the outbox for the next start
        if (!retries_.empty() && retries_.front().due_ms <= MonotonicMs()) {
          queue_.push_back(std::move(retries_.front()));
          retries_.pop_front();
          break;
        }
        if (retries_.empty()) {
          cv_.wait(lock);
        } else {
          cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, retries_.front().due_ms - MonotonicMs())));
        }
      }
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Status status = Deliver(job);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
    }
    Finish(std::move(job), status);
  }
}

void AlarmNotifier::Finish(Job job, const Status& status) {
  const std::string target = job.target->name;
  bool retry = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    (status.ok() ? delivered_ : failed_)++;
    if (job.outbox_seq != 0 && outbox_ != nullptr) {
      if (status.ok()) {
        if (Status removed = outbox_->Remove(job.outbox_seq); !removed.ok() && logger_) {
          logger_->Error("delivered alarm notification not removed from the outbox (it will be sent again)",
                         {{"target", target}, {"error", removed.ToString()}});
        }
      } else {
        retry = true;
        job.failures = std::min(job.failures + 1, 7);
        job.due_ms = MonotonicMs() + std::min<int64_t>(300000, 5000LL << (job.failures - 1));
        // Kept in due order (backoffs only grow, so mostly appended).
        auto at = std::upper_bound(retries_.begin(), retries_.end(), job.due_ms,
                                   [](int64_t due, const Job& j) { return due < j.due_ms; });
        retries_.insert(at, std::move(job));
      }
    }
  }
  if (metrics_) {
    metrics_->GetCounter("orgtrail_alarm_notifications_total", "Alarm notifications by target and result",
                         {{"target", target}, {"result", status.ok() ? "delivered" : "failed"}})->Increment();
  }
  if (logger_) {
    if (status.ok()) {
      logger_->Info("alarm notification delivered", {{"target", target}});
    } else {
      logger_->Error(retry ? "alarm notification failed; kept in the outbox and retried later"
                           : "alarm notification failed",
                     {{"target", target}, {"error", status.ToString()}});
    }
  }
}

}  // namespace orgtrail::collector
