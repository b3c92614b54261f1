// Metric filters and alarms: configuration parsing (the shipped CIS file and
// hostile files), the CloudWatch-style state machine, webhook and command
// delivery against a local HTTP receiver, and the engine end to end over a
// real EventStore filled through the ingest path with the invictus records.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_engine.h"
#include "collector/alarms/alarm_evaluator.h"
#include "collector/alarms/alarm_notifier.h"
#include "collector/alarms/webhook_client.h"
#include "orgtrail/common/filter_pattern.h"
#include "orgtrail/common/generator.h"
#include "orgtrail/common/time_util.h"
#include "collector/query_test_support.h"
#include "testutil/net.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kCisConfigPath = std::string(ORGTRAIL_SOURCE_DIR) + "/deploy/alarms/cis.json";

// A tiny HTTP/1.1 server in the test process that records POST bodies.
// Mode kOk answers 200, kError 500, kSilent never answers.
class HttpReceiver {
 public:
  enum class Mode { kOk, kError, kSilent };
  explicit HttpReceiver(Mode mode = Mode::kOk) : mode_(mode) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HttpReceiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> request_lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::vector<int64_t> receive_times_us() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string data;
      size_t header_end = std::string::npos;
      size_t content_length = 0;
      auto deadline = std::chrono::steady_clock::now() + seconds(10);
      while (std::chrono::steady_clock::now() < deadline && !stop_) {
        pollfd cpfd{client, POLLIN, 0};
        if (poll(&cpfd, 1, 50) <= 0) continue;
        char buf[4096];
        ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos) {
          header_end = data.find("\r\n\r\n");
          if (header_end != std::string::npos) {
            size_t at = data.find("Content-Length: ");
            if (at != std::string::npos) content_length = std::stoul(data.substr(at + 16));
          }
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      }
      if (header_end != std::string::npos) {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(data.substr(0, data.find("\r\n")));
        bodies_.push_back(data.substr(header_end + 4, content_length));
        times_.push_back(NowMicros());
      }
      if (mode_ == Mode::kSilent) {
        while (!stop_) std::this_thread::sleep_for(milliseconds(20));
      } else {
        std::string answer = mode_ == Mode::kOk ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                                : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        (void)!send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      close(client);
    }
  }
  Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> lines_;
  std::vector<int64_t> times_;
  std::thread thread_;
};

// Reads a string member of a JSON body ("" if absent).
std::string JsonString(const std::string& body, std::initializer_list<const char*> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(body).get(e) != simdjson::SUCCESS) return "<invalid json>";
  for (const char* key : path) {
    if (e[key].get(e) != simdjson::SUCCESS) return "";
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

// ---------------------------------------------------------------------------
// Configuration.

TEST(AlarmConfig, ShippedCisFileLoadsWithVerbatimPatterns) {
  auto config = LoadAlarmsConfigFile(kCisConfigPath);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metric_filters.size(), 17u);  // CIS 15 + orgtrail's identity violations and conflicts
  EXPECT_EQ(config->alarms.size(), 17u);
  ASSERT_EQ(config->notifications.size(), 1u);
  std::string source = ReadFile(std::string(ORGTRAIL_SHARED_DATA_DIR) + "/cis-metric-filters/cis_cloudwatch_metric_filters.json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(source).value();
  std::set<std::string> published;
  for (simdjson::dom::element c : doc["controls"].get_array()) {
    std::string_view s;
    if (c["pattern_securityhub"].get_string().get(s) == simdjson::SUCCESS) published.insert(std::string(s));
    for (simdjson::dom::element p : c["pattern_cis_v1_5_0_remediation"].get_array()) {
      published.insert(std::string(p.get_string().value()));
    }
  }
  int from_store = 0;
  for (const auto& filter : config->metric_filters) {
    if (filter.source != MetricFilterSource::kEvents) {
      ++from_store;
      continue;
    }
    EXPECT_TRUE(published.count(filter.pattern.text())) << filter.name << " pattern is not verbatim: " << filter.pattern.text();
  }
  EXPECT_EQ(from_store, 2);
  for (const auto& alarm : config->alarms) {
    EXPECT_EQ(alarm.period_seconds, 300);
    EXPECT_EQ(alarm.threshold, 1);
    EXPECT_EQ(alarm.comparison, ComparisonOperator::kGreaterThanOrEqualToThreshold);
    EXPECT_EQ(alarm.alarm_actions, std::vector<std::string>{"security-team"});
  }
}

TEST(AlarmConfig, HostileFilesGetErrorsNamingTheMember) {
  const std::string filter = R"({"name":"f","pattern":"{ $.a = 1 }","metric_name":"m"})";
  const std::string target = R"({"name":"t","type":"webhook","url":"http://127.0.0.1:1/x"})";
  auto alarm = [](const std::string& extra) {
    return R"({"name":"a","metric_name":"m","threshold":1,"comparison_operator":"GreaterThanThreshold")" + extra + "}";
  };
  auto file = [&](const std::string& filters, const std::string& alarms, const std::string& targets = "") {
    return R"({"notifications":[)" + (targets.empty() ? target : targets) + R"(],"metric_filters":[)" + filters +
           R"(],"alarms":[)" + alarms + "]}";
  };
  ASSERT_TRUE(ParseAlarmsConfig(file(filter, alarm(""))).ok()) << ParseAlarmsConfig(file(filter, alarm(""))).status();
  struct Case {
    std::string json;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {"", "not valid JSON"},
      {file(R"({"name":"f","source":"bogus","metric_name":"m"})", alarm("")),
       "metric_filters[0].source: expected \"events\", \"identity_violations\" or \"event_conflicts\", got 'bogus'"},
      {file(R"({"name":"f","source":"identity_violations","pattern":"{ $.a = 1 }","metric_name":"m"})", alarm("")),
       "metric_filters[0].pattern: only for source \"events\""},
      {file(R"({"name":"f","source":"events","metric_name":"m"})", alarm("")), "metric_filters[0]"},
      {"[]", "expected a JSON object"},
      {"{\"alarms\":{}}", "alarms: expected an array"},
      {"{\"extra\":1}", "unknown member 'extra'"},
      {file(filter, alarm(",\"comparison_operator2\":1")), "alarms[0]: unknown member 'comparison_operator2'"},
      {file(filter, R"({"name":"a","metric_name":"m","threshold":1,"comparison_operator":"GreaterThen"})"),
       "alarms[0].comparison_operator: unknown value 'GreaterThen'"},
      {file(filter, R"({"name":"a","metric_name":"nope","threshold":1,"comparison_operator":"GreaterThanThreshold"})"),
       "alarms[0].metric_name: no metric filter publishes"},
      {file(filter, alarm(R"(,"alarm_actions":["pager"])")), "action 'pager' names no notification target"},
      {file(filter, alarm(R"(,"evaluation_periods":3,"datapoints_to_alarm":4)")), "datapoints_to_alarm: must be between 1 and 3"},
      {file(filter, alarm(R"(,"period_seconds":15)")), "period_seconds: must be a multiple of 10"},
      {file(filter, alarm(R"(,"period_seconds":-300)")), "period_seconds: must be between"},
      {file(filter, alarm(R"(,"threshold":"x")")), "alarms[0]: duplicate member 'threshold'"},
      {file(filter, R"({"name":"a","metric_name":"m","threshold":"1","comparison_operator":"GreaterThanThreshold"})"),
       "alarms[0].threshold: expected a number"},
      {file(filter, R"({"name":"a","metric_name":"m","comparison_operator":"GreaterThanThreshold"})"), "threshold: required"},
      {file(R"({"name":"f","pattern":"{ $.a = }","metric_name":"m"})", alarm("")), "metric_filters[0].pattern: column 9"},
      {file(R"({"name":"f","pattern":"{ $.a = 1 }","metric_name":"m","metric_value":0})", alarm("")), "metric_value: must be greater than 0"},
      {file(filter + "," + filter, alarm("")), "duplicate name 'f'"},
      {file(filter, alarm(""), R"({"name":"t","type":"webhook","url":"ftp://example.com/x"})"), "must start with https:// or http://"},
      {file(filter, alarm(""), R"({"name":"t","type":"webhook","url":"http://user:pw@h/x"})"), "credentials"},
      {file(filter, alarm(""), R"({"name":"t","type":"webhook","url":"http://h:99999/x"})"), "Port number"},
      {file(filter, alarm(""), R"({"name":"t","type":"command","argv":["relative/cmd"]})"), "absolute path"},
      {file(filter, alarm(""), R"({"name":"t","type":"smoke-signal"})"), "expected \"webhook\" or \"command\""},
      {file(filter, alarm(""), R"({"name":"","type":"webhook","url":"http://h/x"})"), "must be 1-255 characters"},
  };
  for (const auto& c : cases) {
    auto config = ParseAlarmsConfig(c.json);
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.fragment), std::string_view::npos)
        << c.json << "\n -> " << config.status();
  }
  EXPECT_FALSE(LoadAlarmsConfigFile("/nonexistent/alarms.json").ok());
}

// ---------------------------------------------------------------------------
// The state machine.

AlarmsConfig OneAlarm(const std::string& alarm_extra, const std::string& filter_pattern = "{ $.eventName = \"X\" }") {
  std::string json = R"({"notifications":[{"name":"t","type":"webhook","url":"http://127.0.0.1:1/"}],
    "metric_filters":[{"name":"f","pattern":")" +
                     std::string() + R"(PATTERN","metric_name":"m"}],
    "alarms":[{"name":"a","metric_name":"m","alarm_actions":["t"],)" +
                     alarm_extra + "}]}";
  std::string escaped;
  for (char c : filter_pattern) {
    if (c == '"') escaped += "\\";
    escaped += c;
  }
  json.replace(json.find("PATTERN"), 7, escaped);
  auto config = ParseAlarmsConfig(json);
  EXPECT_TRUE(config.ok()) << config.status() << "\n" << json;
  return config.ok() ? *config : AlarmsConfig{};
}

constexpr int64_t kPeriod = 300LL * 1000000;
constexpr int64_t kT0 = 1767225600LL * 1000000;  // a period boundary

AlarmSample SampleAt(int64_t t, const std::string& id = "e") {
  AlarmSample s;
  s.time_us = t;
  s.event_id = id;
  return s;
}

TEST(AlarmEvaluator, EarlyBreachThenOkAfterAQuietPeriod) {
  AlarmsConfig config = OneAlarm(R"("threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold",
                                     "treat_missing_data":"notBreaching")");
  AlarmEvaluator evaluator(&config);
  EXPECT_EQ(evaluator.state(0), AlarmState::kInsufficientData);
  auto t = evaluator.Evaluate(kT0 + 10);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kOk);
  evaluator.RecordMatch(0, SampleAt(kT0 + 1000, "id-1"));
  t = evaluator.Evaluate(kT0 + 2000);  // same, still open period: early breach
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].old_state, AlarmState::kOk);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  ASSERT_EQ(t[0].samples.size(), 1u);
  EXPECT_EQ(t[0].samples[0].event_id, "id-1");
  EXPECT_NE(t[0].reason.find("Threshold Crossed: 1 out of the last 1 datapoints [1.0 ("), std::string::npos) << t[0].reason;
  EXPECT_NE(t[0].reason.find("was greater than or equal to the threshold (1.0)"), std::string::npos) << t[0].reason;
  EXPECT_TRUE(evaluator.Evaluate(kT0 + kPeriod + 1).empty());  // period closed: still breaching
  t = evaluator.Evaluate(kT0 + 2 * kPeriod + 1);              // a quiet period: OK again
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kOk);
  EXPECT_NE(t[0].reason.find("was not greater than or equal to"), std::string::npos) << t[0].reason;
}

TEST(AlarmEvaluator, ThresholdIsOnTheSumPerPeriod) {
  AlarmsConfig config = OneAlarm(R"("threshold":3,"comparison_operator":"GreaterThanThreshold",
                                     "treat_missing_data":"notBreaching")");
  AlarmEvaluator evaluator(&config);
  for (int i = 0; i < 3; ++i) evaluator.RecordMatch(0, SampleAt(kT0 + i));
  evaluator.Evaluate(kT0 + 10);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);  // 3 is not > 3
  // Three more in the NEXT period do not add up with the first three.
  for (int i = 0; i < 3; ++i) evaluator.RecordMatch(0, SampleAt(kT0 + kPeriod + i));
  evaluator.Evaluate(kT0 + kPeriod + 10);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
  evaluator.RecordMatch(0, SampleAt(kT0 + kPeriod + 20));
  auto t = evaluator.Evaluate(kT0 + kPeriod + 30);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  EXPECT_EQ(t[0].datapoints.back().value, 4);
}

TEST(AlarmEvaluator, MOutOfNDatapoints) {
  AlarmsConfig config = OneAlarm(R"("threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold",
      "evaluation_periods":3,"datapoints_to_alarm":2,"treat_missing_data":"notBreaching")");
  AlarmEvaluator evaluator(&config);
  evaluator.RecordMatch(0, SampleAt(kT0 + 1));
  evaluator.Evaluate(kT0 + 2);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);  // 1 of 3
  evaluator.Evaluate(kT0 + kPeriod + 1);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
  evaluator.RecordMatch(0, SampleAt(kT0 + 2 * kPeriod + 1));  // second breaching datapoint within 3 periods
  auto t = evaluator.Evaluate(kT0 + 2 * kPeriod + 2);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  EXPECT_NE(t[0].reason.find("2 out of the last 3 datapoints"), std::string::npos) << t[0].reason;
  // The first breach leaves the window after 3 periods: 1 of 3 -> OK.
  evaluator.Evaluate(kT0 + 4 * kPeriod + 1);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
}

TEST(AlarmEvaluator, TreatMissingData) {
  {
    AlarmsConfig config = OneAlarm(R"("threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold")");
    AlarmEvaluator evaluator(&config);  // default "missing"
    EXPECT_TRUE(evaluator.Evaluate(kT0 + 1).empty());
    EXPECT_EQ(evaluator.state(0), AlarmState::kInsufficientData);
    evaluator.RecordMatch(0, SampleAt(kT0 + 2));
    evaluator.Evaluate(kT0 + 3);
    EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
    auto t = evaluator.Evaluate(kT0 + 2 * kPeriod + 1);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].new_state, AlarmState::kInsufficientData);
    EXPECT_NE(t[0].reason.find("Insufficient Data"), std::string::npos);
  }
  {
    AlarmsConfig config = OneAlarm(R"("threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold","treat_missing_data":"breaching")");
    AlarmEvaluator evaluator(&config);
    evaluator.Evaluate(kT0 + 1);
    EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
  }
  {
    AlarmsConfig config = OneAlarm(R"("threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold","treat_missing_data":"ignore")");
    AlarmEvaluator evaluator(&config);
    evaluator.RecordMatch(0, SampleAt(kT0 + 1));
    evaluator.Evaluate(kT0 + 2);
    EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
    EXPECT_TRUE(evaluator.Evaluate(kT0 + 5 * kPeriod).empty());  // no data: state kept
    EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
  }
}

TEST(AlarmEvaluator, LessThanWaitsForThePeriodToClose) {
  // "Fewer than 2 heartbeats per period" must not fire while the period is open.
  AlarmsConfig config = OneAlarm(R"("threshold":2,"comparison_operator":"LessThanThreshold","treat_missing_data":"breaching")");
  AlarmEvaluator evaluator(&config);
  evaluator.RecordMatch(0, SampleAt(kT0 - kPeriod + 1));
  evaluator.RecordMatch(0, SampleAt(kT0 - kPeriod + 2));
  evaluator.Evaluate(kT0 + 1);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
  evaluator.RecordMatch(0, SampleAt(kT0 + 5));  // only 1 in the open period: not yet judged
  evaluator.Evaluate(kT0 + 10);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
  evaluator.Evaluate(kT0 + kPeriod + 1);  // closed with 1 < 2
  EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
}

TEST(AlarmEvaluator, StatisticsOtherThanSum) {
  AlarmsConfig config = OneAlarm(R"("threshold":2,"statistic":"SampleCount","comparison_operator":"GreaterThanOrEqualToThreshold","treat_missing_data":"notBreaching")");
  config.metric_filters[0].metric_value = 10;  // SampleCount ignores the value
  AlarmEvaluator evaluator(&config);
  evaluator.RecordMatch(0, SampleAt(kT0 + 1));
  evaluator.Evaluate(kT0 + 2);
  EXPECT_EQ(evaluator.state(0), AlarmState::kOk);
  evaluator.RecordMatch(0, SampleAt(kT0 + 3));
  evaluator.Evaluate(kT0 + 4);
  EXPECT_EQ(evaluator.state(0), AlarmState::kAlarm);
}

// ---------------------------------------------------------------------------
// Delivery.

NotificationTarget Webhook(const std::string& url, int64_t timeout_ms = 5000) {
  NotificationTarget target;
  target.name = "hook";
  target.url = url;
  target.timeout_ms = timeout_ms;
  return target;
}

TEST(AlarmNotifier, WebhookPostsJsonAndReportsFailures) {
  HttpReceiver receiver;
  std::string body = R"({"AlarmName":"x","unicode":"\u00e9"})";
  ASSERT_TRUE(PostWebhook(Webhook(receiver.url("/alarms?team=sec")), body).ok());
  ASSERT_EQ(receiver.bodies().size(), 1u);
  EXPECT_EQ(receiver.bodies()[0], body);
  EXPECT_EQ(receiver.request_lines()[0], "POST /alarms?team=sec HTTP/1.1");

  HttpReceiver failing(HttpReceiver::Mode::kError);
  auto status = PostWebhook(Webhook(failing.url()), body);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("HTTP status 500"), std::string_view::npos) << status;

  HttpReceiver silent(HttpReceiver::Mode::kSilent);
  auto start = std::chrono::steady_clock::now();
  status = PostWebhook(Webhook(silent.url(), 300), body);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));

  int closed_port = testutil::FreePort();
  status = PostWebhook(Webhook("http://127.0.0.1:" + std::to_string(closed_port) + "/", 2000), body);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_FALSE(PostWebhook(Webhook("http://no-such-host.invalid/", 2000), body).ok());
}

TEST(AlarmNotifier, CommandGetsJsonOnStdin) {
  testutil::TempDir dir;
  std::string out = dir.Join("notification.json");
  std::string body = R"({"AlarmName":"CIS-4.3","NewStateValue":"ALARM"})";
  ASSERT_TRUE(RunNotificationCommand({"/bin/sh", "-c", "cat > '" + out + "'"}, body, 10000).ok());
  EXPECT_EQ(ReadFile(out), body);
  auto status = RunNotificationCommand({"/bin/false"}, body, 10000);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  status = RunNotificationCommand({"/nonexistent/notify"}, body, 10000);
  EXPECT_NE(status.message().find("cannot execute"), std::string_view::npos) << status;
  status = RunNotificationCommand({"/bin/sleep", "30"}, body, 300);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  // Called directly (no notifier thread, SIGPIPE not ignored by this process): a command that
  // exits without reading a body larger than a pipe holds is an error, not a SIGPIPE that kills
  // the caller (found on a fresh machine: /bin/false exiting before the write killed the test).
  status = RunNotificationCommand({"/bin/true"}, std::string(4 << 20, 'x'), 10000);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  // A command that exits without reading a large body must not kill us (SIGPIPE).
  std::string large(4 << 20, 'x');
  AlarmsConfig config;
  NotificationTarget target;
  target.name = "true";
  target.type = NotificationTarget::Type::kCommand;
  target.argv = {"/bin/true"};
  AlarmNotifier notifier({target}, nullptr, nullptr);
  ASSERT_TRUE(notifier.Start().ok());
  notifier.Notify({"true"}, large);
  EXPECT_TRUE(testutil::WaitFor([&] { return notifier.delivered() + notifier.failed() == 1; }, seconds(30)));
}

TEST(AlarmNotifier, QueueIsBoundedAndDeliveredInOrder) {
  HttpReceiver receiver;
  NotificationTarget target;
  target.name = "hook";
  target.url = receiver.url();
  AlarmNotifier notifier({target}, nullptr, nullptr, /*max_queue=*/5);
  for (int i = 0; i < 8; ++i) notifier.Notify({"hook", "unknown-target"}, "{\"n\":" + std::to_string(i) + "}");
  EXPECT_EQ(notifier.failed(), 3u);  // dropped: queue full before the thread runs
  ASSERT_TRUE(notifier.Start().ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return notifier.delivered() == 5; }, seconds(30)));
  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bodies[i], "{\"n\":" + std::to_string(i) + "}");
}

// ---------------------------------------------------------------------------
// The engine over a real store.

TEST(AlarmEngine, CisAlarmsOverTheInvictusRecordsNotifyTheWebhook) {
  HttpReceiver receiver;
  auto config = LoadAlarmsConfigFile(kCisConfigPath);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(OverrideWebhookUrls(&*config, receiver.url("/cis")).ok());

  // Which CIS filters the records trigger, by brute force over the records.
  std::vector<std::string> records = querytest::LoadInvictusRecords();
  ASSERT_EQ(records.size(), 2900u);
  std::set<std::string> expected_alarms;
  FilterEvaluator brute;
  for (const auto& record : records) {
    ASSERT_TRUE(brute.Load(record).ok());
    for (const auto& filter : config->metric_filters) {
      if (filter.source != MetricFilterSource::kEvents) continue;  // store records, not events
      if (brute.Matches(filter.pattern)) expected_alarms.insert(filter.name);  // alarm name == filter name
    }
  }
  EXPECT_TRUE(expected_alarms.count("CIS-4.1-UnauthorizedAPICalls"));
  EXPECT_TRUE(expected_alarms.count("CIS-4.5-CloudTrailConfigChanges"));  // StopLogging, DeleteTrail
  EXPECT_FALSE(expected_alarms.count("CIS-4.3-RootAccountUsage"));

  querytest::QueryTestStore store;
  Logger logger("alarm-test", 2, LogLevel::kWarn);
  MetricsRegistry metrics;
  AlarmEngineOptions options;
  options.tick_us = 100000;
  AlarmEngine engine(store.store(), *config, &logger, &metrics, options);
  ASSERT_TRUE(engine.Start().ok());
  store.Ingest("123837392027", "us-east-1", records, 500);
  ASSERT_TRUE(testutil::WaitFor([&] { return engine.events_evaluated() == records.size(); }, seconds(60)));

  std::set<std::string> fired;
  ASSERT_TRUE(testutil::WaitFor([&] {
    fired.clear();
    for (const auto& body : receiver.bodies()) {
      if (JsonString(body, {"NewStateValue"}) == "ALARM") fired.insert(JsonString(body, {"AlarmName"}));
    }
    return fired == expected_alarms;
  }, seconds(60)));
  EXPECT_EQ(fired, expected_alarms);
  for (const auto& alarm : config->alarms) {
    EXPECT_EQ(engine.state(alarm.name), expected_alarms.count(alarm.name) ? AlarmState::kAlarm : AlarmState::kOk)
        << alarm.name;
  }
  std::string rendered = metrics.RenderPrometheus();
  EXPECT_NE(rendered.find("orgtrail_alarm_in_alarm{alarm=\"CIS-4.1-UnauthorizedAPICalls\"} 1"), std::string::npos);

  // A root call now: the root-usage alarm fires with the event in its samples,
  // and we measure ingest -> notification.
  GeneratorOptions gen;
  gen.account_id = "123837392027";
  gen.use_wall_clock = true;
  gen.mix = GeneratorMix{0, 0, 0, 0, 0, 0, 0, 0, 1};
  EventGenerator generator(gen);
  GeneratedRecord root = generator.Next();
  FilterEvaluator check;
  ASSERT_TRUE(check.Load(root.json).ok());
  ASSERT_TRUE(check.Matches(config->metric_filters[0].pattern)) << root.json;  // CIS 4.3 is first
  size_t before = receiver.bodies().size();
  int64_t ingest_start = NowMicros();
  store.Ingest("123837392027", "us-east-1", {root.json});
  int64_t committed = NowMicros();
  std::string notification;
  ASSERT_TRUE(testutil::WaitFor([&] {
    auto bodies = receiver.bodies();
    for (size_t i = before; i < bodies.size(); ++i) {
      if (JsonString(bodies[i], {"AlarmName"}) == "CIS-4.3-RootAccountUsage") notification = bodies[i];
    }
    return !notification.empty();
  }, seconds(60), milliseconds(1)));
  int64_t received = receiver.receive_times_us().back();
  std::cout << "[ measure ] ingest->webhook notification: " << (received - ingest_start) / 1000.0
            << " ms (commit->webhook " << (received - committed) / 1000.0 << " ms)\n";
  EXPECT_EQ(JsonString(notification, {"NewStateValue"}), "ALARM");
  EXPECT_EQ(JsonString(notification, {"OldStateValue"}), "OK");
  EXPECT_NE(notification.find(root.event_id), std::string::npos) << notification;
  EXPECT_EQ(JsonString(notification, {"Trigger", "ComparisonOperator"}), "GreaterThanOrEqualToThreshold");

  // An identity violation: the agent of 123837392027 sends an event of another
  // account. It is refused (its neighbour stored) and orgtrail's own alarm fires.
  EXPECT_EQ(engine.state("orgtrail-IdentityViolation"), AlarmState::kOk);
  GeneratedRecord neighbour = generator.Next();
  std::string foreign = generator.Next().json;
  const size_t at = foreign.find("\"recipientAccountId\":\"123837392027\"");
  ASSERT_NE(at, std::string::npos) << foreign;
  foreign.replace(at, std::string("\"recipientAccountId\":\"123837392027\"").size(),
                  "\"recipientAccountId\":\"999999999999\"");
  const uint64_t violations_before = store.store()->identity_violations_recorded();
  store.Ingest("123837392027", "us-east-1", {neighbour.json, foreign});
  EXPECT_EQ(store.store()->identity_violations_recorded(), violations_before + 1);
  std::string violation;
  ASSERT_TRUE(testutil::WaitFor([&] {
    for (const auto& body : receiver.bodies()) {
      if (JsonString(body, {"AlarmName"}) == "orgtrail-IdentityViolation" &&
          JsonString(body, {"NewStateValue"}) == "ALARM") {
        violation = body;
      }
    }
    return !violation.empty();
  }, seconds(60)));
  EXPECT_EQ(JsonString(violation, {"NewStateValue"}), "ALARM");
  EXPECT_EQ(engine.state("orgtrail-IdentityViolation"), AlarmState::kAlarm);
  EXPECT_EQ(engine.state("orgtrail-EventConflict"), AlarmState::kOk);
  engine.Stop();
}

TEST(AlarmEngine, CommandTargetAndRestartDoesNotRecount) {
  testutil::TempDir dir;
  std::string out = dir.Join("alarms.jsonl");
  AlarmsConfig config = OneAlarm(R"("threshold":2,"comparison_operator":"GreaterThanOrEqualToThreshold",
                                     "treat_missing_data":"notBreaching")",
                                 "{ $.eventName = \"DeleteBucket\" }");
  config.notifications[0].type = NotificationTarget::Type::kCommand;
  config.notifications[0].url.clear();
  config.notifications[0].argv = {"/bin/sh", "-c", "cat >> '" + out + "'; echo >> '" + out + "'"};
  querytest::QueryTestStore store;
  std::vector<std::string> records = querytest::LoadInvictusRecords();
  std::vector<std::string> deletes;
  for (const auto& r : records) {
    if (r.find("\"eventName\":\"DeleteBucket\"") != std::string::npos) deletes.push_back(r);
  }
  ASSERT_GE(deletes.size(), 3u);
  store.Ingest("123837392027", "us-east-1", {deletes[0]});  // before the engine: not counted
  AlarmEngineOptions options;
  options.tick_us = 50000;
  {
    AlarmEngine engine(store.store(), config, nullptr, nullptr, options);
    ASSERT_TRUE(engine.Start().ok());
    store.Ingest("123837392027", "us-east-1", {deletes[1]});
    ASSERT_TRUE(testutil::WaitFor([&] { return engine.events_evaluated() == 1; }, seconds(30)));
    testutil::WaitFor([&] { return engine.state("a") != AlarmState::kInsufficientData; }, seconds(30));
    EXPECT_EQ(engine.state("a"), AlarmState::kOk);  // 1 < 2
    store.Ingest("123837392027", "us-east-1", {deletes[2]});
    ASSERT_TRUE(testutil::WaitFor([&] { return engine.state("a") == AlarmState::kAlarm; }, seconds(30)));
    ASSERT_TRUE(testutil::WaitFor([&] { return engine.notifier().delivered() == 1; }, seconds(30)));
  }
  std::string written = ReadFile(out);
  EXPECT_EQ(JsonString(written.substr(0, written.find('\n')), {"NewStateValue"}), "ALARM") << written;
}

}  // namespace
}  // namespace orgtrail::collector
