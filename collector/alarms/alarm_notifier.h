// AlarmNotifier: delivers alarm state changes as JSON to notification
// targets: webhooks (an HTTPS or HTTP POST of application/json through
// libcurl, authenticated and signed as webhook_client.h says) and commands
// (fork/exec of an absolute argv, the JSON on stdin).
//
// Notify() only queues (bounded: beyond max_queue the notification is
// dropped, counted and logged) and returns at once; one delivery thread
// sends in order. A webhook is retried up to 3 times (0.2 s, 1 s backoff) on
// connection errors and non-2xx answers; a command that exits non-zero or
// runs past its timeout (then SIGKILLed) counts as failed (not retried).
// Metrics: orgtrail_alarm_notifications_total{target,result}.
// Thread safety: Notify() from any thread. Stop() (also the destructor)
// delivers what is queued, then joins the thread.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_NOTIFIER_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_NOTIFIER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_evaluator.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::collector {

// The notification body, shaped like CloudWatch's SNS alarm message
// (AlarmName, AlarmDescription, NewStateValue, OldStateValue, NewStateReason,
// StateChangeTime, Trigger{...}) plus "orgtrail": {collector, datapoints, samples}.
std::string FormatAlarmNotification(const AlarmTransition& transition, std::string_view collector_id);

// One synchronous delivery attempt (used by the delivery thread; public for tests). Webhooks:
// PostWebhook in webhook_client.h.
Status RunNotificationCommand(const std::vector<std::string>& argv, std::string_view body, int64_t timeout_ms);

class AlarmNotifier {
 public:
  AlarmNotifier(std::vector<NotificationTarget> targets, Logger* logger, MetricsRegistry* metrics,
                size_t max_queue = 1000);
  ~AlarmNotifier();
  AlarmNotifier(const AlarmNotifier&) = delete;
  AlarmNotifier& operator=(const AlarmNotifier&) = delete;

  void Start();
  void Stop();
  // Queues `body` for each named target (unknown names are logged and skipped).
  void Notify(const std::vector<std::string>& target_names, std::string body);

  uint64_t delivered() const;
  uint64_t failed() const;

 private:
  struct Job {
    const NotificationTarget* target;
    std::string body;
  };
  void Run();
  Status Deliver(const Job& job);

  std::vector<NotificationTarget> targets_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool started_ = false;
  uint64_t delivered_ = 0;
  uint64_t failed_ = 0;
  std::thread thread_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_ALARM_NOTIFIER_H_
