// AlarmEngine: runs the configured metric filters over every event the
// collector stores and drives the alarms (alarm_evaluator.h) and their
// notifications (alarm_notifier.h).
//
// It follows the store's commit order through a CommitFeed (commit listener
// + NewCommitIterator) on its own thread, starting at the last commit index
// at Start() (events stored earlier are not re-counted after a restart;
// alarm states start as INSUFFICIENT_DATA, as a new CloudWatch alarm does).
// Each new event is matched against every metric filter (FilterEvaluator);
// a match is counted in the period of the event's receipt time. Filters whose
// source is a store record (identity violations, event conflicts) count each
// new record (store counters, polled every tick) in the period it was seen. Alarms are
// evaluated after every group of new events and at least every tick, so an
// early breach fires within one commit and period ends are seen within a tick.
// Metrics: orgtrail_metric_filter_matches_total{filter},
// orgtrail_alarm_in_alarm{alarm} (1 while ALARM), orgtrail_alarm_transitions_total{alarm,state}.
// Thread safety: Start/Stop from one thread; state() and counters from any.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_ENGINE_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_evaluator.h"
#include "collector/alarms/alarm_notifier.h"
#include "collector/store/store.h"
#include "collector/store/commit_feed.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"

namespace orgtrail::collector {

struct AlarmEngineOptions {
  std::string collector_id = "collector";
  int64_t tick_us = 1000000;
  std::function<int64_t()> clock;  // microseconds since the epoch; empty = wall clock
  std::string outbox_dir;           // durable notifications (alarm_outbox.h); "" = in memory only
};

class AlarmEngine {
 public:
  // store, logger and metrics must outlive the engine.
  AlarmEngine(EventStore* store, AlarmsConfig config, Logger* logger, MetricsRegistry* metrics,
              AlarmEngineOptions options = {});
  ~AlarmEngine();
  AlarmEngine(const AlarmEngine&) = delete;
  AlarmEngine& operator=(const AlarmEngine&) = delete;

  // Registers the commit listener and starts the threads. Call after the store
  // is open and before ingest starts.
  Status Start();
  void Stop();

  // Current state of the named alarm (INSUFFICIENT_DATA for an unknown name).
  AlarmState state(std::string_view alarm_name) const;
  uint64_t events_evaluated() const { return events_evaluated_.load(); }
  uint64_t cursor() const { return cursor_.load(); }
  const AlarmNotifier& notifier() const { return notifier_; }

 private:
  void Run();
  void ProcessCommits(uint64_t last);
  void EvaluateAndNotify();
  // Records one match per new identity violation / conflict for the filters of that source.
  void PollStoreRecords();
  uint64_t StoreCounter(MetricFilterSource source) const;
  int64_t Now() const;

  EventStore* store_;
  AlarmsConfig config_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  AlarmEngineOptions options_;
  AlarmNotifier notifier_;
  AlarmEvaluator evaluator_;
  std::unique_ptr<CommitFeed> feed_;
  std::vector<Counter*> filter_matches_;
  std::vector<Gauge*> in_alarm_;
  mutable std::mutex state_mu_;
  std::vector<AlarmState> states_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> cursor_{0};
  std::atomic<uint64_t> events_evaluated_{0};
  std::vector<uint64_t> store_counter_seen_;  // per metric filter (store-record sources); engine thread only
  std::thread thread_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_ALARM_ENGINE_H_
