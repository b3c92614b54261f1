// Metric filters, alarms and notification targets in the style of CloudWatch
// (PutMetricFilter / PutMetricAlarm), read from a JSON file such as
// deploy/alarms/cis.json:
//
// {
//   "notifications": [
//     {"name": "security-team", "type": "webhook", "url": "http://127.0.0.1:8088/alarms"},
//     {"name": "pager", "type": "command", "argv": ["/usr/local/bin/page", "--json"]}
//   ],
//   "metric_filters": [
//     {"name": "RootUsage", "pattern": "{ $.userIdentity.type = \"Root\" }",
//      "metric_name": "RootAccountUsageCount", "metric_namespace": "CISBenchmark",
//      "metric_value": 1},
//     {"name": "IdentityViolations", "source": "identity_violations",
//      "metric_name": "IdentityViolationCount", "metric_namespace": "orgtrail"}
//   ],
//   "alarms": [
//     {"name": "CIS-4.3-RootUsage", "description": "...", "metric_name": "RootAccountUsageCount",
//      "statistic": "Sum", "period_seconds": 300, "evaluation_periods": 1,
//      "datapoints_to_alarm": 1, "threshold": 1,
//      "comparison_operator": "GreaterThanOrEqualToThreshold",
//      "treat_missing_data": "notBreaching",
//      "alarm_actions": ["security-team"], "ok_actions": [], "insufficient_data_actions": []}
//   ]
// }
//
// Defaults follow CloudWatch: metric_value 1, statistic Sum, evaluation_periods 1,
// datapoints_to_alarm = evaluation_periods, treat_missing_data "missing".
// Unknown members are refused (a typo must not silently disable an alarm).
// Errors: INVALID_ARGUMENT naming the entry and the member, e.g.
// "alarms[2].comparison_operator: unknown operator 'GreaterThen'". Pure
// functions; thread-safe.
#ifndef ORGTRAIL_COLLECTOR_ALARMS_ALARM_CONFIG_H_
#define ORGTRAIL_COLLECTOR_ALARMS_ALARM_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

enum class ComparisonOperator {
  kGreaterThanOrEqualToThreshold,
  kGreaterThanThreshold,
  kLessThanThreshold,
  kLessThanOrEqualToThreshold,
};
std::string_view ComparisonOperatorName(ComparisonOperator op);
bool Breaches(ComparisonOperator op, double value, double threshold);

enum class TreatMissingData { kMissing, kNotBreaching, kBreaching, kIgnore };
std::string_view TreatMissingDataName(TreatMissingData treat);

enum class AlarmStatistic { kSum, kSampleCount, kMaximum, kMinimum, kAverage };
std::string_view AlarmStatisticName(AlarmStatistic statistic);

struct NotificationTarget {
  enum class Type { kWebhook, kCommand };
  std::string name;
  Type type = Type::kWebhook;
  std::string url;                // webhook: https://host[:port]/path (or http://)
  std::vector<std::string> argv;  // command: argv[0] is an absolute path; JSON on stdin
  int64_t timeout_ms = 5000;
  // Webhook security, each from a file named in the config (read at load; "" = none):
  std::string ca_file;        // "ca_file": trust only this CA (PEM) instead of the system store
  std::string authorization;  // "bearer_token_file" -> "Bearer <token>",
                              // "basic_auth_file" ("user:password") -> "Basic <base64>"
  std::string hmac_secret;    // "hmac_secret_file": signs each body (X-Orgtrail-Signature-256)
};

// What a metric filter counts: stored events matching its pattern (CloudWatch's
// metric filters), or records the collector keeps beside the events.
enum class MetricFilterSource {
  kEvents,              // "events" (default): stored events matching `pattern`
  kIdentityViolations,  // "identity_violations": events refused for naming another account or region
  kEventConflicts,      // "event_conflicts": an (account, eventID) stored again with other bytes
};
std::string_view MetricFilterSourceName(MetricFilterSource source);

struct MetricFilterConfig {
  std::string name;
  MetricFilterSource source = MetricFilterSource::kEvents;
  FilterPattern pattern;  // kEvents only
  std::string metric_name;
  std::string metric_namespace = "orgtrail";
  double metric_value = 1;  // > 0
};

struct AlarmConfig {
  std::string name;
  std::string description;
  std::string metric_name;
  std::string metric_namespace = "orgtrail";
  AlarmStatistic statistic = AlarmStatistic::kSum;
  int64_t period_seconds = 300;
  int evaluation_periods = 1;
  int datapoints_to_alarm = 1;
  double threshold = 1;
  ComparisonOperator comparison = ComparisonOperator::kGreaterThanOrEqualToThreshold;
  TreatMissingData treat_missing_data = TreatMissingData::kMissing;
  std::vector<std::string> alarm_actions;  // target names
  std::vector<std::string> ok_actions;
  std::vector<std::string> insufficient_data_actions;
};

struct AlarmsConfig {
  std::vector<NotificationTarget> notifications;
  std::vector<MetricFilterConfig> metric_filters;
  std::vector<AlarmConfig> alarms;
};

// Parses and checks the whole file: every alarm names an existing metric,
// every action an existing target, names are unique, limits hold
// (period 10 s .. 1 day and a multiple of 10 s, evaluation periods 1..100,
// datapoints_to_alarm 1..evaluation_periods).
StatusOr<AlarmsConfig> ParseAlarmsConfig(std::string_view json);
StatusOr<AlarmsConfig> LoadAlarmsConfigFile(const std::string& path);

// Replaces the url of every webhook target (operators point the shipped CIS
// file at their receiver without editing it: --alarm-webhook).
Status OverrideWebhookUrls(AlarmsConfig* config, const std::string& url);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_ALARMS_ALARM_CONFIG_H_
