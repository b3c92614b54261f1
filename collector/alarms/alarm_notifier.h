// AlarmNotifier: delivers alarm state changes as JSON to notification
// targets: webhooks (an HTTPS or HTTP POST of application/json through
// libcurl, authenticated and signed as webhook_client.h says) and commands
// (fork/exec of an absolute argv, the JSON on stdin).
//
// Notify() only queues (bounded: beyond max_queue the notification is
// dropped, counted and logged) and returns at once; one delivery thread
// sends in order. A webhook is tried up to 3 times (0.2 s, 1 s backoff) on
// connection errors and non-2xx answers; a command that exits non-zero or
// runs past its timeout (then SIGKILLed) counts as failed.
// With an outbox directory (alarm_outbox.h) every notification is made
// durable before it is queued and deleted once delivered; one that failed is
// tried again later (backoff from 5 s, doubling to 5 min) instead of being
// dropped, and Start() queues what an earlier run left undelivered, so an
// alert survives a restart. Without one, a failed notification is dropped.
// Metrics: orgtrail_alarm_notifications_total{target,result}.
// Thread safety: Notify() from any thread. Stop() (also the destructor)
// delivers what is queued, then joins the thread.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_NOTIFIER_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_NOTIFIER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_evaluator.h"
#include "collector/alarms/alarm_outbox.h"
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
                size_t max_queue = 1000, std::string outbox_dir = {});
  ~AlarmNotifier();
  AlarmNotifier(const AlarmNotifier&) = delete;
  AlarmNotifier& operator=(const AlarmNotifier&) = delete;

  // UNAVAILABLE if the outbox directory cannot be opened.
  Status Start();
  // Delivers what is queued (one round each), leaves failed ones in the outbox, joins the thread.
  void Stop();
  // Queues `body` for each named target (unknown names are logged and skipped).
  void Notify(const std::vector<std::string>& target_names, std::string body);

  uint64_t delivered() const;
  uint64_t failed() const;
  size_t outbox_size() const;  // notifications on disk not delivered yet (0 without an outbox)

 private:
  struct Job {
    const NotificationTarget* target = nullptr;
    std::string body;
    uint64_t outbox_seq = 0;  // 0: not in the outbox
    std::string delivery_id;
    int failures = 0;
    int64_t due_ms = 0;  // retries: not before this (monotonic ms)
  };
  void Run();
  Status Deliver(const Job& job);
  const NotificationTarget* FindTarget(const std::string& name) const;
  void Finish(Job job, const Status& status);

  std::vector<NotificationTarget> targets_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  size_t max_queue_;
  std::string outbox_dir_;
  std::unique_ptr<AlarmOutbox> outbox_;  // guarded by mu_
  std::deque<Job> retries_;              // failed, waiting for their due time; guarded by mu_
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
