// FindingsDeliverer: sends findings (findings_log.h) to notification targets of the --alarms file
// (webhooks: HTTPS with the target's CA, auth and HMAC signature, alarms/webhook_client.h;
// commands: the JSON on stdin), each finding exactly once per target from the receiver's view.
//
// The findings log is the outbox: per target a durable cursor (metadata
// "findings/delivered/<target>") says which findings were delivered; the deliverer follows the
// log after it, sends each finding at or above the minimum level, and moves the cursor once the
// target accepted it. A failed delivery is retried (1 s, doubling to 5 min) without skipping;
// findings keep being recorded meanwhile (nothing is dropped, nothing queues in memory). A crash
// between the receiver's answer and the cursor write resends that finding with the same
// X-Orgtrail-Delivery-Id (derived from the finding's key), so a receiver drops the repeat.
// A target configured for the first time starts at the findings recorded from then on.
// Body: {"orgtrailFinding": <the Finding as protobuf JSON>, "collector": <collector id>}.
// Metrics: orgtrail_findings_notifications_total{target,result}, orgtrail_findings_undelivered{target}.
// Thread safety: Start/Stop from one thread; failure() from any.
#ifndef ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_DELIVERER_H_
#define ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_DELIVERER_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/alarms/alarm_config.h"
#include "collector/findings/findings_log.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::collector {

struct FindingsDeliveryOptions {
  std::vector<NotificationTarget> targets;
  int min_level_rank = 3;  // LevelRank("medium")
  std::string collector_id = "collector";
  int64_t poll_us = 250'000;          // how often the log is checked for new findings
  int64_t first_retry_us = 1'000'000;
  int64_t max_retry_us = 300'000'000;
};

// The id a finding is delivered under (32 hex characters, stable across resends).
std::string FindingDeliveryId(const v1::Finding& finding);
// The notification body.
std::string FindingNotificationBody(const v1::Finding& finding, const std::string& collector_id);

class FindingsDeliverer {
 public:
  FindingsDeliverer(EventStore* store, FindingsDeliveryOptions options, Logger* logger, MetricsRegistry* metrics);
  ~FindingsDeliverer();
  FindingsDeliverer(const FindingsDeliverer&) = delete;
  FindingsDeliverer& operator=(const FindingsDeliverer&) = delete;

  // Reads (or, first time, records) each target's cursor; starts one thread per target.
  Status Start(uint64_t findings_cursor_now);
  void Stop();

  // The last delivered (or passed over) finding of a target: (commit index, rule id).
  struct Position {
    uint64_t commit_index = 0;
    std::string rule_id;
  };

 private:
  bool MoveCursor(const std::string& key, const Position& at, bool* dirty);
  void Run(size_t target_index);
  std::string CursorKey(size_t target_index) const;

  EventStore* store_;
  FindingsDeliveryOptions options_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  FindingsLog log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_FINDINGS_FINDINGS_DELIVERER_H_
