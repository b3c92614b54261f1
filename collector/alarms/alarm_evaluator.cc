// AlarmEvaluator (alarm_evaluator.h).
#include "collector/alarms/alarm_evaluator.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace orgtrail::collector {

std::string_view AlarmStateName(AlarmState state) {
  switch (state) {
    case AlarmState::kInsufficientData: return "INSUFFICIENT_DATA";
    case AlarmState::kOk: return "OK";
    case AlarmState::kAlarm: return "ALARM";
  }
  return "?";
}

namespace {

constexpr size_t kMaxSamples = 10;

int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "21/11/26 20:10:00" as CloudWatch writes datapoint times.
std::string FormatPeriod(int64_t time_us) {
  time_t seconds = static_cast<time_t>(time_us / 1000000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%d/%m/%y %H:%M:%S", &tm);
  return buf;
}

std::string_view OperatorPhrase(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kGreaterThanOrEqualToThreshold: return "greater than or equal to";
    case ComparisonOperator::kGreaterThanThreshold: return "greater than";
    case ComparisonOperator::kLessThanThreshold: return "less than";
    case ComparisonOperator::kLessThanOrEqualToThreshold: return "less than or equal to";
  }
  return "?";
}

}  // namespace

AlarmEvaluator::AlarmEvaluator(const AlarmsConfig* config) : config_(config) {
  alarms_.resize(config->alarms.size());
  alarms_of_filter_.resize(config->metric_filters.size());
  for (size_t a = 0; a < config->alarms.size(); ++a) {
    const AlarmConfig& alarm = config->alarms[a];
    alarms_[a].config = &alarm;
    for (size_t f = 0; f < config->metric_filters.size(); ++f) {
      const MetricFilterConfig& filter = config->metric_filters[f];
      if (filter.metric_name == alarm.metric_name && filter.metric_namespace == alarm.metric_namespace) {
        alarms_of_filter_[f].push_back(a);
      }
    }
  }
}

void AlarmEvaluator::RecordMatch(size_t filter_index, const AlarmSample& sample) {
  if (filter_index >= alarms_of_filter_.size()) return;
  double value = config_->metric_filters[filter_index].metric_value;
  for (size_t a : alarms_of_filter_[filter_index]) {
    AlarmRuntime& runtime = alarms_[a];
    int64_t period_us = runtime.config->period_seconds * 1000000;
    Aggregate& aggregate = runtime.periods[FloorTo(sample.time_us, period_us)];
    if (aggregate.count == 0) {
      aggregate.min = aggregate.max = value;
    } else {
      aggregate.min = std::min(aggregate.min, value);
      aggregate.max = std::max(aggregate.max, value);
    }
    aggregate.sum += value;
    ++aggregate.count;
    runtime.samples.push_back(sample);
    while (runtime.samples.size() > kMaxSamples) runtime.samples.pop_front();
  }
}

double AlarmEvaluator::StatisticValue(const AlarmConfig& alarm, const Aggregate& aggregate) const {
  switch (alarm.statistic) {
    case AlarmStatistic::kSum: return aggregate.sum;
    case AlarmStatistic::kSampleCount: return static_cast<double>(aggregate.count);
    case AlarmStatistic::kMaximum: return aggregate.max;
    case AlarmStatistic::kMinimum: return aggregate.min;
    case AlarmStatistic::kAverage: return aggregate.sum / static_cast<double>(aggregate.count);
  }
  return 0;
}

bool AlarmEvaluator::EarlyBreachPossible(const AlarmConfig& alarm) const {
  bool greater = alarm.comparison == ComparisonOperator::kGreaterThanOrEqualToThreshold ||
                 alarm.comparison == ComparisonOperator::kGreaterThanThreshold;
  bool monotone = alarm.statistic == AlarmStatistic::kSum || alarm.statistic == AlarmStatistic::kSampleCount ||
                  alarm.statistic == AlarmStatistic::kMaximum;
  return greater && monotone;
}

std::vector<AlarmDatapoint> AlarmEvaluator::Window(const AlarmRuntime& runtime, int64_t first_period_us,
                                                   int count) const {
  int64_t period_us = runtime.config->period_seconds * 1000000;
  std::vector<AlarmDatapoint> window;
  for (int i = 0; i < count; ++i) {
    AlarmDatapoint point;
    point.period_start_us = first_period_us + i * period_us;
    auto it = runtime.periods.find(point.period_start_us);
    if (it != runtime.periods.end() && it->second.count > 0) {
      point.missing = false;
      point.value = StatisticValue(*runtime.config, it->second);
    }
    window.push_back(point);
  }
  return window;
}

AlarmState AlarmEvaluator::Decide(const AlarmRuntime& runtime, const std::vector<AlarmDatapoint>& window,
                                  int* breaching) const {
  const AlarmConfig& alarm = *runtime.config;
  *breaching = 0;
  int present = 0;
  for (const auto& point : window) {
    if (point.missing) {
      if (alarm.treat_missing_data == TreatMissingData::kBreaching) ++*breaching, ++present;
      if (alarm.treat_missing_data == TreatMissingData::kNotBreaching) ++present;
      continue;
    }
    ++present;
    if (Breaches(alarm.comparison, point.value, alarm.threshold)) ++*breaching;
  }
  if (present == 0) {
    return alarm.treat_missing_data == TreatMissingData::kIgnore ? runtime.state : AlarmState::kInsufficientData;
  }
  return *breaching >= alarm.datapoints_to_alarm ? AlarmState::kAlarm : AlarmState::kOk;
}

std::string AlarmEvaluator::Reason(const AlarmConfig& alarm, AlarmState state, const std::vector<AlarmDatapoint>& window,
                                   int breaching) const {
  std::string points;
  int shown = 0;
  for (auto it = window.rbegin(); it != window.rend(); ++it) {
    if (it->missing) continue;
    if (shown++) points += ", ";
    points += FormatNumber(it->value) + " (" + FormatPeriod(it->period_start_us) + ")";
  }
  if (state == AlarmState::kInsufficientData) {
    return "Insufficient Data: " + std::to_string(window.size()) + " datapoint" + (window.size() == 1 ? " was" : "s were") +
           " unknown.";
  }
  std::string verb = state == AlarmState::kAlarm ? "was" : "was not";
  return "Threshold Crossed: " + std::to_string(breaching) + " out of the last " + std::to_string(window.size()) +
         " datapoints [" + points + "] " + verb + " " + std::string(OperatorPhrase(alarm.comparison)) +
         " the threshold (" + FormatNumber(alarm.threshold) + ") (minimum " + std::to_string(alarm.datapoints_to_alarm) +
         " datapoint" + (alarm.datapoints_to_alarm == 1 ? "" : "s") + " for OK -> ALARM transition).";
}

std::vector<AlarmTransition> AlarmEvaluator::Evaluate(int64_t now_us) {
  std::vector<AlarmTransition> transitions;
  for (AlarmRuntime& runtime : alarms_) {
    const AlarmConfig& alarm = *runtime.config;
    int64_t period_us = alarm.period_seconds * 1000000;
    int n = alarm.evaluation_periods;
    int64_t current = FloorTo(now_us, period_us);
    // Closed periods [current - n*P, current).
    std::vector<AlarmDatapoint> window = Window(runtime, current - n * period_us, n);
    int breaching = 0;
    AlarmState next = Decide(runtime, window, &breaching);
    if (next != AlarmState::kAlarm && EarlyBreachPossible(alarm)) {
      // The last n-1 closed periods plus the open one.
      std::vector<AlarmDatapoint> early = Window(runtime, current - (n - 1) * period_us, n);
      if (!early.back().missing && Breaches(alarm.comparison, early.back().value, alarm.threshold)) {
        int early_breaching = 0;
        if (Decide(runtime, early, &early_breaching) == AlarmState::kAlarm) {
          next = AlarmState::kAlarm;
          window = std::move(early);
          breaching = early_breaching;
        }
      }
    }
    // Forget periods that can no longer be evaluated.
    runtime.periods.erase(runtime.periods.begin(), runtime.periods.lower_bound(current - n * period_us));
    while (!runtime.samples.empty() && runtime.samples.front().time_us < current - n * period_us) {
      runtime.samples.pop_front();
    }
    if (next == runtime.state) continue;
    AlarmTransition transition;
    transition.alarm = &alarm;
    transition.old_state = runtime.state;
    transition.new_state = next;
    transition.time_us = now_us;
    transition.reason = Reason(alarm, next, window, breaching);
    transition.datapoints = window;
    transition.samples.assign(runtime.samples.begin(), runtime.samples.end());
    runtime.state = next;
    transitions.push_back(std::move(transition));
  }
  return transitions;
}

}  // namespace orgtrail::collector
