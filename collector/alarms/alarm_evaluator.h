// AlarmEvaluator: CloudWatch-style metric alarms over metric-filter matches.
//
// Each metric filter match adds metric_value to its metric's datapoint for
// the period containing the match time (periods are aligned to multiples of
// period_seconds since the Unix epoch, as CloudWatch aligns them). Evaluate(now)
// looks at the last `evaluation_periods` closed periods: an alarm is ALARM
// when at least `datapoints_to_alarm` of them breach the threshold ("M out of
// N"), OK otherwise, and INSUFFICIENT_DATA when every datapoint is missing and
// treat_missing_data is "missing" ("ignore" keeps the state, "breaching" /
// "notBreaching" count missing datapoints as such).
// Early breach: for GreaterThan* operators with Sum / SampleCount / Maximum,
// the running value of the current (still open) period can only grow, so a
// current period that already breaches counts at once: the alarm fires when
// the match is recorded, not at the end of the period. It never leaves ALARM
// on a partial period.
// Times are the collector's receipt times in microseconds.
// Not thread-safe: one owner (the AlarmEngine thread) calls everything.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_EVALUATOR_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_EVALUATOR_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "collector/alarms/alarm_config.h"

namespace orgtrail::collector {

enum class AlarmState { kInsufficientData, kOk, kAlarm };
std::string_view AlarmStateName(AlarmState state);  // "INSUFFICIENT_DATA" | "OK" | "ALARM"

// What the notification says about one matching event.
struct AlarmSample {
  int64_t time_us = 0;
  std::string event_id;
  std::string event_name;
  std::string account_id;
  std::string region;
  std::string username;
};

struct AlarmDatapoint {
  int64_t period_start_us = 0;
  bool missing = true;
  double value = 0;
};

struct AlarmTransition {
  const AlarmConfig* alarm = nullptr;
  AlarmState old_state = AlarmState::kInsufficientData;
  AlarmState new_state = AlarmState::kInsufficientData;
  int64_t time_us = 0;
  std::string reason;                      // CloudWatch-style NewStateReason
  std::vector<AlarmDatapoint> datapoints;  // the evaluated window, oldest first
  std::vector<AlarmSample> samples;        // recent matching events (newest last, at most 10)
};

class AlarmEvaluator {
 public:
  // `config` must outlive the evaluator.
  explicit AlarmEvaluator(const AlarmsConfig* config);

  // Metric filter `filter_index` (into config->metric_filters) matched an event.
  void RecordMatch(size_t filter_index, const AlarmSample& sample);
  // Evaluates every alarm at now_us; returns the state changes.
  std::vector<AlarmTransition> Evaluate(int64_t now_us);

  AlarmState state(size_t alarm_index) const { return alarms_[alarm_index].state; }
  size_t alarm_count() const { return alarms_.size(); }

 private:
  struct Aggregate {
    double sum = 0;
    uint64_t count = 0;
    double min = 0;
    double max = 0;
  };
  struct AlarmRuntime {
    const AlarmConfig* config = nullptr;
    AlarmState state = AlarmState::kInsufficientData;
    std::map<int64_t, Aggregate> periods;  // period start -> aggregate
    std::deque<AlarmSample> samples;
  };

  double StatisticValue(const AlarmConfig& alarm, const Aggregate& aggregate) const;
  bool EarlyBreachPossible(const AlarmConfig& alarm) const;
  std::vector<AlarmDatapoint> Window(const AlarmRuntime& runtime, int64_t first_period_us, int count) const;
  AlarmState Decide(const AlarmRuntime& runtime, const std::vector<AlarmDatapoint>& window, int* breaching) const;
  std::string Reason(const AlarmConfig& alarm, AlarmState state, const std::vector<AlarmDatapoint>& window,
                     int breaching) const;

  const AlarmsConfig* config_;
  std::vector<AlarmRuntime> alarms_;
  std::vector<std::vector<size_t>> alarms_of_filter_;  // filter index -> alarm indexes
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_ALARM_EVALUATOR_H_
