// CloudTrail Insights end to end, against the real collector on loopback: an organization trail
// gets insight selectors (orgtrailctl put-insight-selectors); an agent's stream stores an hour of
// management calls whose anomalies are known (a burst of s3 DeleteBucket, a storm of iam ListUsers
// answered AccessDenied) beside a steady, jittery ec2 RunInstances workload. Then:
//   - lookup-events --event-category insight returns exactly the two Start/End pairs, with
//     CloudTrail's statistics, and filters them by EventName; plain lookups do not see them;
//   - the Insights records are provable with verify-event (the collector signed them);
//   - the export holds them in CloudTrail-Insight/ files named as CloudTrail names them, and only
//     there; the digests list those files and validate-logs finds them valid;
//   - an alarm on `$.eventType = "AwsCloudTrailInsight"` fires its command notification;
//   - the steady workload gets no Insight.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "collector/export/export_file.h"
#include "collector/export_test_support.h"
#include "orgtrail/common/time_util.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

namespace fs = std::filesystem;

constexpr char kAccount[] = "111111111111";
constexpr char kOrg[] = "o-insights0001";
constexpr int64_t kMinuteUs = 60LL * 1000000;

struct Call {
  int minute = 0;
  std::string source, name;
  bool read_only = false;
  std::string error_code;
};

std::string CallJson(const std::string& id, int64_t time_us, const Call& c, int user) {
  const std::string arn = "arn:aws:iam::111111111111:user/user" + std::to_string(user);
  std::string json = R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE",)"
                     R"("arn":")" + arn + R"(","accountId":"111111111111","userName":"user)" + std::to_string(user) +
                     R"("},"eventTime":")" + FormatRfc3339Seconds(time_us) + R"(","eventSource":")" + c.source +
                     R"(","eventName":")" + c.name + R"(","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",)"
                     R"("userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,)";
  if (!c.error_code.empty()) json += R"("errorCode":")" + c.error_code + R"(","errorMessage":"denied",)";
  json += R"("eventID":")" + id + R"(","readOnly":)" + (c.read_only ? "true" : "false") +
          R"(,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111",)"
          R"("eventCategory":"Management"})";
  return json;
}

// An hour from 2026-11-01T00:00Z: DeleteBucket 2/min with 40/min in minutes 45-47; ListUsers 5
// successes/min and 1 AccessDenied/min with 30/min in minutes 50-51; RunInstances 10-14/min.
std::vector<std::string> Workload(int64_t t0) {
  std::vector<Call> calls;
  for (int m = 0; m < 60; ++m) {
    const int deletes = (m >= 45 && m <= 47) ? 40 : 2;
    for (int i = 0; i < deletes; ++i) calls.push_back({m, "s3.amazonaws.com", "DeleteBucket", false, ""});
    const int denied = (m == 50 || m == 51) ? 30 : 1;
    for (int i = 0; i < denied; ++i) calls.push_back({m, "iam.amazonaws.com", "ListUsers", true, "AccessDenied"});
    for (int i = 0; i < 5; ++i) calls.push_back({m, "iam.amazonaws.com", "ListUsers", true, ""});
    for (int i = 0; i < 10 + (m * 7) % 5; ++i) calls.push_back({m, "ec2.amazonaws.com", "RunInstances", false, ""});
  }
  std::vector<std::string> out;
  std::map<int, int> per_minute;
  for (size_t i = 0; i < calls.size(); ++i) {
    const int n = per_minute[calls[i].minute]++;
    const int64_t time = t0 + calls[i].minute * kMinuteUs + (n % 59) * 1000000;
    out.push_back(CallJson("call-" + std::to_string(i), time, calls[i], static_cast<int>(i % 3)));
  }
  return out;
}

class InsightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.Join("pki"));
    fs::create_directories(dir_.Join("logs"));
    admin_ = pki_->Admin("root");
    auditor_ = pki_->Auditor("alice");
    agent_ = pki_->Agent(kAccount, "us-east-1", "a1");
    alarm_file_ = dir_.Join("alarm-notifications.jsonl");
    std::ofstream(dir_.Join("alarms.json")) << R"({
      "notifications": [{"name": "capture", "type": "command", "argv": ["/bin/sh", "-c", "cat >> )" + alarm_file_ + R"("]}],
      "metric_filters": [{"name": "InsightStarts", "pattern": "{ $.eventType = \"AwsCloudTrailInsight\" && $.insightDetails.state = \"Start\" }",
                          "metric_name": "InsightStartCount", "metric_namespace": "orgtrail"}],
      "alarms": [{"name": "UnusualApiActivity", "metric_name": "InsightStartCount", "statistic": "Sum", "period_seconds": 60,
                  "threshold": 1, "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
                  "alarm_actions": ["capture"]}]
    })";
  }
  std::unique_ptr<testutil::CollectorProcess> StartCollector() {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    o.tls = pki_->Collector("central");
    o.name = "collector";
    o.extra_args = {"--insights-baseline", "30m", "--insights-warmup", "20m", "--insights-factor", "5",
                    "--insights-min-calls", "10", "--alarms", dir_.Join("alarms.json"), "--export-interval", "300ms",
                    "--digest-interval", "2s",
                    "--export-bucket", "insights-bucket", "--export-org-id", kOrg};
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  testutil::CtlResult Ctl(testutil::CollectorProcess* c, std::vector<std::string> args, const TlsFiles& tls) {
    return testutil::RunOrgtrailctl(std::move(args), c->target(), tls, dir_.Join("logs"), "ctl-" + std::to_string(runs_++));
  }
  // lookup-events --event-category insight [more...] over the workload's day, as parsed records.
  std::vector<std::string> InsightRecords(testutil::CollectorProcess* c, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"lookup-events", "--event-category", "insight", "--start-time",
                                     "2026-10-31T00:00:00Z", "--end-time", "2026-11-02T00:00:00Z"};
    args.insert(args.end(), more.begin(), more.end());
    testutil::CtlResult r = Ctl(c, args, auditor_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r.out).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << r.out;
      return out;
    }
    for (simdjson::dom::element e : doc["Events"].get_array()) {
      out.emplace_back(std::string(e["CloudTrailEvent"].get_string().value()));
    }
    return out;
  }

  testutil::TempDir dir_{"insights"};
  std::unique_ptr<testutil::TestPki> pki_;
  TlsFiles admin_, auditor_, agent_;
  std::string alarm_file_;
  int runs_ = 0;
};

std::string Field(simdjson::dom::element e, std::initializer_list<const char*> path) {
  for (const char* key : path) e = e[key].value();
  return std::string(e.get_string().value());
}
double Number(simdjson::dom::element e, std::initializer_list<const char*> path) {
  for (const char* key : path) e = e[key].value();
  double d = 0;
  if (e.get_double().get(d) != simdjson::SUCCESS) d = static_cast<double>(e.get_int64().value());
  return d;
}

TEST_F(InsightsTest, BurstAndErrorStormAreInsightsFoundStoredExportedAndAlarmedSteadyLoadIsNot) {
  auto c = StartCollector();
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(Ctl(c.get(), {"create-trail", "--name", "org-trail", "--s3-bucket-name", "insights-bucket",
                          "--is-multi-region-trail", "--is-organization-trail"}, admin_).exit_code, 0);
  ASSERT_EQ(Ctl(c.get(), {"start-logging", "--name", "org-trail"}, admin_).exit_code, 0);
  testutil::CtlResult off = Ctl(c.get(), {"get-insight-selectors", "--trail-name", "org-trail"}, admin_);
  EXPECT_EQ(off.exit_code, 1);
  EXPECT_NE(off.err.find("InsightNotEnabledException"), std::string::npos) << off.err;
  testutil::CtlResult put = Ctl(c.get(), {"put-insight-selectors", "--trail-name", "org-trail", "--insight-selectors",
                                          R"([{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}])"},
                                admin_);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  testutil::CtlResult got = Ctl(c.get(), {"get-insight-selectors", "--trail-name", "org-trail"}, admin_);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find(R"("InsightType": "ApiErrorRateInsight")"), std::string::npos) << got.out;
  EXPECT_NE(Ctl(c.get(), {"get-trail", "--name", "org-trail"}, admin_).out.find(R"("HasInsightSelectors": true)"),
            std::string::npos);

  const int64_t t0 = *ParseRfc3339Micros("2026-11-01T00:00:00Z");
  auto client = testutil::IngestClient::Connect(c->target(), agent_,
                                                testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Hello().ok());
  const std::vector<std::string> workload = Workload(t0);
  for (size_t at = 0; at < workload.size(); at += 500) {
    std::vector<std::string> batch(workload.begin() + at, workload.begin() + std::min(workload.size(), at + 500));
    auto ack = (*client)->SendEvents(batch);
    ASSERT_TRUE(ack.ok()) << ack.status();
  }

  std::vector<std::string> records;
  for (int attempt = 0; attempt < 300 && records.size() < 4; ++attempt) {
    records = InsightRecords(c.get());
    if (records.size() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(records.size(), 4u);
  simdjson::dom::parser parser;
  std::map<std::string, std::string> ids;  // "<type> <state>" -> eventID
  std::set<std::string> shared;
  for (const std::string& raw : records) {
    simdjson::dom::element e = parser.parse(raw).value();
    EXPECT_EQ(Field(e, {"eventType"}), "AwsCloudTrailInsight");
    EXPECT_EQ(Field(e, {"eventCategory"}), "Insight");
    EXPECT_EQ(Field(e, {"recipientAccountId"}), kAccount);
    const std::string type = Field(e, {"insightDetails", "insightType"});
    const std::string state = Field(e, {"insightDetails", "state"});
    ids[type + " " + state] = Field(e, {"eventID"});
    shared.insert(Field(e, {"sharedEventID"}));
    const std::string time = Field(e, {"eventTime"});
    const double baseline = Number(e, {"insightDetails", "insightContext", "statistics", "baseline", "average"});
    const double insight = Number(e, {"insightDetails", "insightContext", "statistics", "insight", "average"});
    EXPECT_EQ(Number(e, {"insightDetails", "insightContext", "statistics", "baselineDuration"}), 30) << raw;
    if (type == "ApiCallRateInsight") {
      EXPECT_EQ(Field(e, {"insightDetails", "eventName"}), "DeleteBucket") << raw;
      EXPECT_EQ(Field(e, {"insightDetails", "eventSource"}), "s3.amazonaws.com") << raw;
      EXPECT_DOUBLE_EQ(baseline, 2.0) << raw;  // 2 calls/min over the 30 minutes before minute 45
      EXPECT_DOUBLE_EQ(insight, 40.0) << raw;
      EXPECT_EQ(time, state == "Start" ? "2026-11-01T00:45:00Z" : "2026-11-01T00:48:00Z") << raw;
    } else {
      EXPECT_EQ(type, "ApiErrorRateInsight") << raw;
      EXPECT_EQ(Field(e, {"insightDetails", "eventName"}), "ListUsers") << raw;
      EXPECT_DOUBLE_EQ(baseline, 1.0) << raw;
      EXPECT_DOUBLE_EQ(insight, 30.0) << raw;
      EXPECT_EQ(time, state == "Start" ? "2026-11-01T00:50:00Z" : "2026-11-01T00:52:00Z") << raw;
      EXPECT_NE(raw.find(R"({"attribute":"errorCode","insight":[{"value":"AccessDenied","average":30}])"),
                std::string::npos)
          << raw;
    }
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(shared.size(), 2u) << "a Start and its End share one sharedEventID";

  // Filtered by the API they are about; never in plain lookups; none for the steady workload.
  EXPECT_EQ(InsightRecords(c.get(), {"--lookup-attributes", "AttributeKey=EventName,AttributeValue=DeleteBucket"}).size(), 2u);
  EXPECT_EQ(InsightRecords(c.get(), {"--lookup-attributes", "AttributeKey=EventName,AttributeValue=RunInstances"}).size(), 0u);
  testutil::CtlResult plain = Ctl(c.get(), {"lookup-events", "--start-time", "2026-10-31T00:00:00Z", "--end-time",
                                            "2026-11-02T00:00:00Z", "--max-items", "5000"}, auditor_);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("AwsCloudTrailInsight"), std::string::npos);
  EXPECT_NE(plain.out.find("call-0"), std::string::npos);

  // Proven like any record: the collector signed it.
  testutil::CtlResult verified = Ctl(c.get(), {"verify-event", ids["ApiCallRateInsight Start"]}, auditor_);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // Exported under CloudTrail-Insight/ with CloudTrail's file names, and only there.
  const std::regex name(std::string(kAccount) + "_CloudTrail-Insight_us-east-1_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz");
  std::set<std::string> exported;
  size_t insight_in_cloudtrail_files = 0;
  for (int attempt = 0; attempt < 300 && exported.size() < 4; ++attempt) {
    exported.clear();
    insight_in_cloudtrail_files = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_.Join("data/export"), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string path = it->path().string();
      const std::string file = it->path().filename().string();
      if (!it->is_regular_file(ec) || file.rfind(".tmp-", 0) == 0 || path.find(".json.gz") == std::string::npos) continue;
      if (path.find("/CloudTrail-Digest/") != std::string::npos) continue;
      auto doc = collector::GzipDecompress(exporttest::ReadFileOrDie(path));
      ASSERT_TRUE(doc.ok()) << path;
      const bool insight_folder =
          path.find(std::string("/AWSLogs/") + kOrg + "/" + kAccount + "/CloudTrail-Insight/us-east-1/2026/") !=
          std::string::npos;
      if (insight_folder) {
        EXPECT_TRUE(std::regex_match(file, name)) << file;
      }
      for (const std::string& r : exporttest::SplitRecords(*doc)) {
        const bool is_insight = r.find("\"AwsCloudTrailInsight\"") != std::string::npos;
        if (insight_folder && is_insight) exported.insert(exporttest::TopLevelString(r, "eventID"));
        if (!insight_folder && is_insight) ++insight_in_cloudtrail_files;
        if (insight_folder) {
          EXPECT_TRUE(is_insight) << path;
        }
      }
    }
    if (exported.size() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::set<std::string> want;
  for (const auto& [key, id] : ids) want.insert(id);
  EXPECT_EQ(exported, want);
  EXPECT_EQ(insight_in_cloudtrail_files, 0u);
  // The partition's digests list the Insight files, so validate-logs proves them unaltered.
  exporttest::ValidateRun validated;
  for (int attempt = 0; attempt < 60; ++attempt) {
    validated = exporttest::RunValidate(dir_.Join("data/export"), kAccount, {"--verbose"}, dir_.Join("logs"),
                                        "validate-" + std::to_string(attempt));
    if (validated.exit_code == 0 && validated.out.find("/CloudTrail-Insight/") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(validated.exit_code, 0) << validated.out << validated.err;
  EXPECT_NE(validated.out.find("_CloudTrail-Insight_us-east-1_"), std::string::npos) << validated.out;
  EXPECT_EQ(validated.out.find("INVALID"), std::string::npos) << validated.out;

  // The alarm on Insight starts fired its notification.
  std::string notified;
  for (int attempt = 0; attempt < 300 && notified.find(R"("NewStateValue":"ALARM")") == std::string::npos; ++attempt) {
    notified = exporttest::ReadFileOrDie(alarm_file_);
    if (notified.find(R"("NewStateValue":"ALARM")") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(notified.find("UnusualApiActivity"), std::string::npos) << notified;
  EXPECT_NE(notified.find(R"("NewStateValue":"ALARM")"), std::string::npos) << notified;
}

}  // namespace
}  // namespace orgtrail
