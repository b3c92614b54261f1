// Alarm configuration file parsing and checks (alarm_config.h).
#include "collector/alarms/alarm_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "collector/alarms/webhook_client.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::collector {

std::string_view ComparisonOperatorName(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kGreaterThanOrEqualToThreshold: return "GreaterThanOrEqualToThreshold";
    case ComparisonOperator::kGreaterThanThreshold: return "GreaterThanThreshold";
    case ComparisonOperator::kLessThanThreshold: return "LessThanThreshold";
    case ComparisonOperator::kLessThanOrEqualToThreshold: return "LessThanOrEqualToThreshold";
  }
  return "?";
}

bool Breaches(ComparisonOperator op, double value, double threshold) {
  switch (op) {
    case ComparisonOperator::kGreaterThanOrEqualToThreshold: return value >= threshold;
    case ComparisonOperator::kGreaterThanThreshold: return value > threshold;
    case ComparisonOperator::kLessThanThreshold: return value < threshold;
    case ComparisonOperator::kLessThanOrEqualToThreshold: return value <= threshold;
  }
  return false;
}

std::string_view TreatMissingDataName(TreatMissingData treat) {
  switch (treat) {
    case TreatMissingData::kMissing: return "missing";
    case TreatMissingData::kNotBreaching: return "notBreaching";
    case TreatMissingData::kBreaching: return "breaching";
    case TreatMissingData::kIgnore: return "ignore";
  }
  return "?";
}

std::string_view AlarmStatisticName(AlarmStatistic statistic) {
  switch (statistic) {
    case AlarmStatistic::kSum: return "Sum";
    case AlarmStatistic::kSampleCount: return "SampleCount";
    case AlarmStatistic::kMaximum: return "Maximum";
    case AlarmStatistic::kMinimum: return "Minimum";
    case AlarmStatistic::kAverage: return "Average";
  }
  return "?";
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(where + ": " + what);
}

// Reads members of one JSON object, refusing unknown ones.
class Members {
 public:
  Members(object obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Status CheckKnown(std::initializer_list<std::string_view> known) const {
    std::set<std::string_view> seen;
    for (auto field : obj_) {
      if (!seen.insert(field.key).second) return Invalid(where_, "duplicate member '" + std::string(field.key) + "'");
      bool ok = field.key.substr(0, 1) == "_";  // "_comment" and friends are allowed
      for (auto k : known) ok = ok || field.key == k;
      if (!ok) return Invalid(where_, "unknown member '" + std::string(field.key) + "'");
    }
    return absl::OkStatus();
  }

  bool Has(std::string_view key) const {
    element e;
    return obj_.at_key(key).get(e) == simdjson::SUCCESS;
  }

  Status String(std::string_view key, bool required, std::string* out) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS) {
      return required ? Invalid(Path(key), "required") : absl::OkStatus();
    }
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return Invalid(Path(key), "expected a string");
    *out = std::string(s);
    return absl::OkStatus();
  }

  Status Number(std::string_view key, double* out) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS) return absl::OkStatus();
    double d;
    if (!e.is_number() || e.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
      return Invalid(Path(key), "expected a number");
    }
    *out = d;
    return absl::OkStatus();
  }

  Status Integer(std::string_view key, int64_t min, int64_t max, int64_t* out) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS) return absl::OkStatus();
    int64_t v;
    if (e.get_int64().get(v) != simdjson::SUCCESS) return Invalid(Path(key), "expected an integer");
    if (v < min || v > max) {
      return Invalid(Path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    *out = v;
    return absl::OkStatus();
  }

  Status StringList(std::string_view key, std::vector<std::string>* out) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS) return absl::OkStatus();
    simdjson::dom::array array;
    if (e.get_array().get(array) != simdjson::SUCCESS) return Invalid(Path(key), "expected an array of strings");
    for (element item : array) {
      std::string_view s;
      if (item.get_string().get(s) != simdjson::SUCCESS) return Invalid(Path(key), "expected an array of strings");
      out->emplace_back(s);
    }
    return absl::OkStatus();
  }

  std::string Path(std::string_view key) const { return where_ + "." + std::string(key); }
  const std::string& where() const { return where_; }

 private:
  object obj_;
  std::string where_;
};

Status CheckName(const std::string& where, const std::string& name) {
  if (name.empty() || name.size() > 255) return Invalid(where + ".name", "must be 1-255 characters");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Invalid(where + ".name", "control characters are not allowed");
  }
  return absl::OkStatus();
}

// A secret or CA file named by the config: a regular file of 1 byte to 64 KiB; trailing newlines
// are not part of a secret.
Status ReadConfigFile(const std::string& where, const std::string& path, bool strip_newlines, std::string* out) {
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
    return Invalid(where, "'" + path.substr(0, 256) + "' is not a readable regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0 || size > 64 * 1024) return Invalid(where, "'" + path + "' must hold 1 byte to 64 KiB");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return Invalid(where, "cannot read '" + path + "'");
  *out = ss.str();
  if (strip_newlines) {
    while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
    if (out->empty()) return Invalid(where, "'" + path + "' holds only a newline");
  }
  return absl::OkStatus();
}

Status ParseWebhookSecrets(Members* m, NotificationTarget* target) {
  std::string path;
  if (m->Has("ca_file")) {
    ORGTRAIL_RETURN_IF_ERROR(m->String("ca_file", true, &path));
    std::string unused;
    ORGTRAIL_RETURN_IF_ERROR(ReadConfigFile(m->Path("ca_file"), path, false, &unused));
    target->ca_file = path;
  }
  if (m->Has("bearer_token_file") && m->Has("basic_auth_file")) {
    return Invalid(m->Path("basic_auth_file"), "use either bearer_token_file or basic_auth_file");
  }
  std::string secret;
  if (m->Has("bearer_token_file")) {
    ORGTRAIL_RETURN_IF_ERROR(m->String("bearer_token_file", true, &path));
    ORGTRAIL_RETURN_IF_ERROR(ReadConfigFile(m->Path("bearer_token_file"), path, true, &secret));
    target->authorization = "Bearer " + secret;
  }
  if (m->Has("basic_auth_file")) {
    ORGTRAIL_RETURN_IF_ERROR(m->String("basic_auth_file", true, &path));
    ORGTRAIL_RETURN_IF_ERROR(ReadConfigFile(m->Path("basic_auth_file"), path, true, &secret));
    if (secret.find(':') == std::string::npos) return Invalid(m->Path("basic_auth_file"), "expected user:password");
    target->authorization = "Basic " + Base64Encode(secret);
  }
  for (unsigned char c : target->authorization) {
    if (c < 0x20 || c == 0x7f) return Invalid(m->Path("bearer_token_file"), "control characters in the credentials");
  }
  if (m->Has("hmac_secret_file")) {
    ORGTRAIL_RETURN_IF_ERROR(m->String("hmac_secret_file", true, &path));
    ORGTRAIL_RETURN_IF_ERROR(ReadConfigFile(m->Path("hmac_secret_file"), path, true, &target->hmac_secret));
  }
  return absl::OkStatus();
}

Status ParseTarget(object obj, const std::string& where, NotificationTarget* target) {
  Members m(obj, where);
  ORGTRAIL_RETURN_IF_ERROR(m.CheckKnown({"name", "type", "url", "argv", "timeout_ms", "ca_file", "bearer_token_file",
                                          "basic_auth_file", "hmac_secret_file"}));
  ORGTRAIL_RETURN_IF_ERROR(m.String("name", true, &target->name));
  ORGTRAIL_RETURN_IF_ERROR(CheckName(where, target->name));
  std::string type;
  ORGTRAIL_RETURN_IF_ERROR(m.String("type", true, &type));
  ORGTRAIL_RETURN_IF_ERROR(m.Integer("timeout_ms", 100, 120000, &target->timeout_ms));
  if (type == "webhook") {
    target->type = NotificationTarget::Type::kWebhook;
    ORGTRAIL_RETURN_IF_ERROR(m.String("url", true, &target->url));
    if (Status url = CheckWebhookUrl(target->url); !url.ok()) return Invalid(m.Path("url"), std::string(url.message()));
    if (m.Has("argv")) return Invalid(m.Path("argv"), "only for type \"command\"");
    ORGTRAIL_RETURN_IF_ERROR(ParseWebhookSecrets(&m, target));
  } else if (type == "command") {
    target->type = NotificationTarget::Type::kCommand;
    ORGTRAIL_RETURN_IF_ERROR(m.StringList("argv", &target->argv));
    if (target->argv.empty()) return Invalid(m.Path("argv"), "required: [\"/absolute/path\", args...]");
    if (target->argv[0].empty() || target->argv[0][0] != '/') {
      return Invalid(m.Path("argv"), "argv[0] must be an absolute path");
    }
    for (const auto& arg : target->argv) {
      if (arg.find('\0') != std::string::npos) return Invalid(m.Path("argv"), "NUL byte in an argument");
    }
    for (const char* key : {"url", "ca_file", "bearer_token_file", "basic_auth_file", "hmac_secret_file"}) {
      if (m.Has(key)) return Invalid(m.Path(key), "only for type \"webhook\"");
    }
  } else {
    return Invalid(m.Path("type"), "expected \"webhook\" or \"command\", got '" + type + "'");
  }
  return absl::OkStatus();
}

Status ParseMetricFilter(object obj, const std::string& where, MetricFilterConfig* filter) {
  Members m(obj, where);
  ORGTRAIL_RETURN_IF_ERROR(
      m.CheckKnown({"name", "source", "pattern", "metric_name", "metric_namespace", "metric_value"}));
  ORGTRAIL_RETURN_IF_ERROR(m.String("name", true, &filter->name));
  ORGTRAIL_RETURN_IF_ERROR(CheckName(where, filter->name));
  std::string source = "events";
  ORGTRAIL_RETURN_IF_ERROR(m.String("source", false, &source));
  if (source == "events") {
    filter->source = MetricFilterSource::kEvents;
  } else if (source == "identity_violations") {
    filter->source = MetricFilterSource::kIdentityViolations;
  } else if (source == "event_conflicts") {
    filter->source = MetricFilterSource::kEventConflicts;
  } else {
    return Invalid(m.Path("source"),
                   "expected \"events\", \"identity_violations\" or \"event_conflicts\", got '" + source + "'");
  }
  if (filter->source == MetricFilterSource::kEvents) {
    std::string pattern;
    ORGTRAIL_RETURN_IF_ERROR(m.String("pattern", true, &pattern));
    auto parsed = FilterPattern::Parse(pattern);
    if (!parsed.ok()) return Invalid(m.Path("pattern"), std::string(parsed.status().message()));
    filter->pattern = std::move(*parsed);
  } else if (m.Has("pattern")) {
    return Invalid(m.Path("pattern"), "only for source \"events\"");
  }
  ORGTRAIL_RETURN_IF_ERROR(m.String("metric_name", true, &filter->metric_name));
  if (filter->metric_name.empty()) return Invalid(m.Path("metric_name"), "must not be empty");
  ORGTRAIL_RETURN_IF_ERROR(m.String("metric_namespace", false, &filter->metric_namespace));
  ORGTRAIL_RETURN_IF_ERROR(m.Number("metric_value", &filter->metric_value));
  if (!(filter->metric_value > 0)) return Invalid(m.Path("metric_value"), "must be greater than 0");
  return absl::OkStatus();
}

}  // namespace

std::string_view MetricFilterSourceName(MetricFilterSource source) {
  switch (source) {
    case MetricFilterSource::kEvents: return "events";
    case MetricFilterSource::kIdentityViolations: return "identity_violations";
    case MetricFilterSource::kEventConflicts: return "event_conflicts";
  }
  return "events";
}

namespace {

Status ParseEnum(const Members& m, std::string_view key, const std::string& text,
                 std::initializer_list<std::string_view> names, int* index) {
  int i = 0;
  std::string all;
  for (auto name : names) {
    if (text == name) {
      *index = i;
      return absl::OkStatus();
    }
    all += (i ? ", " : "") + std::string(name);
    ++i;
  }
  return Invalid(m.Path(key), "unknown value '" + text + "' (expected one of " + all + ")");
}

Status ParseAlarm(object obj, const std::string& where, AlarmConfig* alarm) {
  Members m(obj, where);
  ORGTRAIL_RETURN_IF_ERROR(m.CheckKnown({"name", "description", "metric_name", "metric_namespace", "statistic",
                                         "period_seconds", "evaluation_periods", "datapoints_to_alarm", "threshold",
                                         "comparison_operator", "treat_missing_data", "alarm_actions", "ok_actions",
                                         "insufficient_data_actions"}));
  ORGTRAIL_RETURN_IF_ERROR(m.String("name", true, &alarm->name));
  ORGTRAIL_RETURN_IF_ERROR(CheckName(where, alarm->name));
  ORGTRAIL_RETURN_IF_ERROR(m.String("description", false, &alarm->description));
  ORGTRAIL_RETURN_IF_ERROR(m.String("metric_name", true, &alarm->metric_name));
  ORGTRAIL_RETURN_IF_ERROR(m.String("metric_namespace", false, &alarm->metric_namespace));
  std::string text;
  int index = 0;
  if (m.Has("statistic")) {
    ORGTRAIL_RETURN_IF_ERROR(m.String("statistic", true, &text));
    ORGTRAIL_RETURN_IF_ERROR(ParseEnum(m, "statistic", text, {"Sum", "SampleCount", "Maximum", "Minimum", "Average"}, &index));
    alarm->statistic = static_cast<AlarmStatistic>(index);
  }
  ORGTRAIL_RETURN_IF_ERROR(m.Integer("period_seconds", 10, 86400, &alarm->period_seconds));
  if (alarm->period_seconds % 10 != 0) return Invalid(m.Path("period_seconds"), "must be a multiple of 10");
  int64_t evaluation_periods = 1;
  ORGTRAIL_RETURN_IF_ERROR(m.Integer("evaluation_periods", 1, 100, &evaluation_periods));
  alarm->evaluation_periods = static_cast<int>(evaluation_periods);
  int64_t datapoints = evaluation_periods;
  ORGTRAIL_RETURN_IF_ERROR(m.Integer("datapoints_to_alarm", 1, evaluation_periods, &datapoints));
  alarm->datapoints_to_alarm = static_cast<int>(datapoints);
  if (!m.Has("threshold")) return Invalid(m.Path("threshold"), "required");
  ORGTRAIL_RETURN_IF_ERROR(m.Number("threshold", &alarm->threshold));
  if (!m.Has("comparison_operator")) return Invalid(m.Path("comparison_operator"), "required");
  ORGTRAIL_RETURN_IF_ERROR(m.String("comparison_operator", true, &text));
  ORGTRAIL_RETURN_IF_ERROR(ParseEnum(m, "comparison_operator", text,
                                     {"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                                      "LessThanOrEqualToThreshold"},
                                     &index));
  alarm->comparison = static_cast<ComparisonOperator>(index);
  if (m.Has("treat_missing_data")) {
    ORGTRAIL_RETURN_IF_ERROR(m.String("treat_missing_data", true, &text));
    ORGTRAIL_RETURN_IF_ERROR(ParseEnum(m, "treat_missing_data", text, {"missing", "notBreaching", "breaching", "ignore"}, &index));
    alarm->treat_missing_data = static_cast<TreatMissingData>(index);
  }
  ORGTRAIL_RETURN_IF_ERROR(m.StringList("alarm_actions", &alarm->alarm_actions));
  ORGTRAIL_RETURN_IF_ERROR(m.StringList("ok_actions", &alarm->ok_actions));
  ORGTRAIL_RETURN_IF_ERROR(m.StringList("insufficient_data_actions", &alarm->insufficient_data_actions));
  return absl::OkStatus();
}

template <typename T, typename Parse>
Status ParseList(object root, std::string_view key, Parse parse, std::vector<T>* out) {
  element e;
  if (root.at_key(key).get(e) != simdjson::SUCCESS) return absl::OkStatus();
  simdjson::dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return Invalid(std::string(key), "expected an array");
  size_t i = 0;
  for (element item : array) {
    std::string where = std::string(key) + "[" + std::to_string(i++) + "]";
    object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) return Invalid(where, "expected an object");
    T value;
    ORGTRAIL_RETURN_IF_ERROR(parse(obj, where, &value));
    out->push_back(std::move(value));
  }
  if (out->size() > 10000) return Invalid(std::string(key), "more than 10000 entries");
  return absl::OkStatus();
}

Status CheckReferences(const AlarmsConfig& config) {
  std::set<std::string> targets, filters, metrics, alarms;
  for (size_t i = 0; i < config.notifications.size(); ++i) {
    if (!targets.insert(config.notifications[i].name).second) {
      return Invalid("notifications[" + std::to_string(i) + "].name", "duplicate name '" + config.notifications[i].name + "'");
    }
  }
  for (size_t i = 0; i < config.metric_filters.size(); ++i) {
    const auto& f = config.metric_filters[i];
    if (!filters.insert(f.name).second) {
      return Invalid("metric_filters[" + std::to_string(i) + "].name", "duplicate name '" + f.name + "'");
    }
    metrics.insert(f.metric_namespace + "/" + f.metric_name);
  }
  for (size_t i = 0; i < config.alarms.size(); ++i) {
    const auto& a = config.alarms[i];
    std::string where = "alarms[" + std::to_string(i) + "]";
    if (!alarms.insert(a.name).second) return Invalid(where + ".name", "duplicate name '" + a.name + "'");
    if (!metrics.count(a.metric_namespace + "/" + a.metric_name)) {
      return Invalid(where + ".metric_name", "no metric filter publishes '" + a.metric_namespace + "/" + a.metric_name + "'");
    }
    for (const auto* list : {&a.alarm_actions, &a.ok_actions, &a.insufficient_data_actions}) {
      for (const auto& action : *list) {
        if (!targets.count(action)) return Invalid(where, "action '" + action + "' names no notification target");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<AlarmsConfig> ParseAlarmsConfig(std::string_view json) {
  if (json.size() > (16u << 20)) return absl::InvalidArgumentError("alarms config: larger than 16 MiB");
  simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(std::string("alarms config: not valid JSON: ") + simdjson::error_message(error));
  }
  object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return absl::InvalidArgumentError("alarms config: expected a JSON object");
  Members top(obj, "alarms config");
  ORGTRAIL_RETURN_IF_ERROR(top.CheckKnown({"notifications", "metric_filters", "alarms"}));
  AlarmsConfig config;
  ORGTRAIL_RETURN_IF_ERROR(ParseList(obj, "notifications", ParseTarget, &config.notifications));
  ORGTRAIL_RETURN_IF_ERROR(ParseList(obj, "metric_filters", ParseMetricFilter, &config.metric_filters));
  ORGTRAIL_RETURN_IF_ERROR(ParseList(obj, "alarms", ParseAlarm, &config.alarms));
  ORGTRAIL_RETURN_IF_ERROR(CheckReferences(config));
  return config;
}

StatusOr<AlarmsConfig> LoadAlarmsConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("cannot read alarms config '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  auto config = ParseAlarmsConfig(ss.str());
  if (!config.ok()) return absl::InvalidArgumentError(path + ": " + std::string(config.status().message()));
  return config;
}

Status OverrideWebhookUrls(AlarmsConfig* config, const std::string& url) {
  ORGTRAIL_RETURN_IF_ERROR(CheckWebhookUrl(url));
  for (auto& target : config->notifications) {
    if (target.type == NotificationTarget::Type::kWebhook) target.url = url;
  }
  return absl::OkStatus();
}

}  // namespace orgtrail::collector
