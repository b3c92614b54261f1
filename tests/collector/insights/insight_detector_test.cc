// CloudTrail Insights over generated workloads whose anomalies are known: a burst of DeleteBucket
// is one ApiCallRateInsight (Start and End, one sharedEventID, the burst's rate, duration and
// caller), a storm of AccessDenied is one ApiErrorRateInsight, a steady workload (with noise)
// and a young API give none, the same events in another order give the same Insights, and the
// records are CloudTrail's shape.
#include "collector/insights/insight_detector.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>

namespace orgtrail::collector {
namespace {

constexpr int64_t kMinute = 60LL * 1000 * 1000;
constexpr int64_t kT0 = 1767225600LL * 1000 * 1000;  // 2026-01-01T00:00:00Z

InsightOptions TestOptions() {
  InsightOptions o;
  o.baseline_minutes = 60;
  o.min_history_minutes = 60;
  return o;
}

ApiCall Call(const std::string& name, int64_t minute, int64_t second, bool read_only = false,
             const std::string& error = "", const std::string& user = "arn:aws:iam::111122223333:user/app") {
  ApiCall c;
  c.account_id = "111122223333";
  c.region = "eu-west-1";
  c.event_source = "s3.amazonaws.com";
  c.event_name = name;
  c.event_time_us = kT0 + minute * kMinute + second * 1000000;
  c.read_only = read_only;
  c.error_code = error;
  c.user_arn = user;
  c.user_agent = "aws-cli/2.15.0";
  return c;
}

// Feeds per-minute call counts (calls spread over the minute), advancing time minute by minute.
std::vector<InsightEvent> Feed(InsightDetector* d, const std::vector<int>& per_minute, const std::string& name,
                               bool read_only = false, const std::string& error = "",
                               const std::string& burst_user = "") {
  std::vector<InsightEvent> out;
  for (size_t m = 0; m < per_minute.size(); ++m) {
    for (int i = 0; i < per_minute[m]; ++i) {
      const bool burst = !burst_user.empty() && per_minute[m] >= 20;
      d->Observe(Call(name, static_cast<int64_t>(m), (i * 59) / std::max(1, per_minute[m]), read_only, error,
                      burst ? burst_user : "arn:aws:iam::111122223333:user/app"));
    }
    d->AdvanceTo(kT0 + static_cast<int64_t>(m + 1) * kMinute, &out);
  }
  return out;
}

TEST(InsightDetectorTest, ABurstOfDeleteBucketIsOneCallRateInsight) {
  InsightDetector d(TestOptions());
  std::vector<int> load(120, 2);
  for (int m = 0; m < 5; ++m) load.push_back(40);
  load.insert(load.end(), 30, 2);
  const auto events = Feed(&d, load, "DeleteBucket", false, "", "arn:aws:iam::111122223333:user/intruder");
  ASSERT_EQ(events.size(), 2u);
  const InsightEvent& start = events[0];
  const InsightEvent& end = events[1];
  EXPECT_EQ(start.state, "Start");
  EXPECT_EQ(end.state, "End");
  EXPECT_EQ(start.insight_type, "ApiCallRateInsight");
  EXPECT_EQ(start.shared_event_id, end.shared_event_id);
  EXPECT_NE(start.event_id, end.event_id);
  EXPECT_EQ(start.event_time_us, kT0 + 120 * kMinute);
  EXPECT_EQ(end.event_time_us, kT0 + 125 * kMinute);
  EXPECT_DOUBLE_EQ(start.baseline_average, 2.0);
  EXPECT_DOUBLE_EQ(start.insight_average, 40.0);
  EXPECT_DOUBLE_EQ(end.insight_average, 40.0);
  EXPECT_EQ(end.insight_duration_minutes, 5);
  EXPECT_EQ(end.baseline_duration_minutes, 60);
  EXPECT_EQ(start.event_name, "DeleteBucket");
  EXPECT_EQ(start.account_id, "111122223333");
  ASSERT_GE(end.attributions.size(), 2u);
  EXPECT_EQ(end.attributions[0].attribute, "userIdentityArn");
  ASSERT_FALSE(end.attributions[0].insight.empty());
  EXPECT_EQ(end.attributions[0].insight[0].value, "arn:aws:iam::111122223333:user/intruder");
  EXPECT_DOUBLE_EQ(end.attributions[0].insight[0].average, 40.0);
  ASSERT_FALSE(end.attributions[0].baseline.empty());
  EXPECT_EQ(end.attributions[0].baseline[0].value, "arn:aws:iam::111122223333:user/app");
  EXPECT_EQ(d.open_insights(), 0u);
}

TEST(InsightDetectorTest, AStormOfAccessDeniedIsOneErrorRateInsightAndReadsAreNoCallRateInsight) {
  InsightDetector d(TestOptions());
  std::vector<int> load(90, 1);
  load.insert(load.end(), 3, 50);
  load.insert(load.end(), 10, 1);
  const auto events = Feed(&d, load, "GetObject", /*read_only=*/true, "AccessDenied");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].insight_type, "ApiErrorRateInsight");
  EXPECT_EQ(events[1].insight_duration_minutes, 3);
  ASSERT_EQ(events[1].attributions.size(), 3u);
  EXPECT_EQ(events[1].attributions[2].attribute, "errorCode");
  EXPECT_EQ(events[1].attributions[2].insight[0].value, "AccessDenied");
}

TEST(InsightDetectorTest, ASteadyNoisyWorkloadAndAYoungApiGiveNoInsight) {
  std::mt19937 random(20261206);
  std::uniform_int_distribution<int> noisy(20, 40);
  std::vector<int> steady;
  for (int m = 0; m < 600; ++m) steady.push_back(noisy(random));
  InsightDetector d(TestOptions());
  EXPECT_TRUE(Feed(&d, steady, "PutObject").empty());
  // A burst in an API's first hour is not an anomaly: there is no baseline yet.
  InsightDetector young(TestOptions());
  std::vector<int> early(5, 0);
  early.push_back(100);
  early.insert(early.end(), 10, 0);
  EXPECT_TRUE(Feed(&young, early, "CreateBucket").empty());
}

TEST(InsightDetectorTest, TheSameEventsInAnotherOrderGiveTheSameInsights) {
  std::vector<ApiCall> calls;
  for (int m = 0; m < 100; ++m) {
    const int n = (m >= 80 && m < 84) ? 30 : 2;
    for (int i = 0; i < n; ++i) calls.push_back(Call("DeleteBucket", m, i % 60));
  }
  auto replay = [&](bool shuffled_within_minutes) {
    std::vector<ApiCall> order = calls;
    if (shuffled_within_minutes) {
      std::mt19937 random(7);
      for (size_t start = 0; start < order.size();) {
        size_t end = start;
        while (end < order.size() && order[end].event_time_us / kMinute == order[start].event_time_us / kMinute) ++end;
        std::shuffle(order.begin() + start, order.begin() + end, random);
        start = end;
      }
    }
    InsightDetector d(TestOptions());
    std::vector<InsightEvent> out;
    for (const ApiCall& c : order) {
      d.Observe(c);
      d.AdvanceTo(c.event_time_us, &out);  // the newest event time seen
    }
    d.AdvanceTo(kT0 + 200 * kMinute, &out);
    std::vector<std::string> records;
    for (const InsightEvent& e : out) records.push_back(InsightRecordJson(e));
    return records;
  };
  const auto in_order = replay(false);
  EXPECT_EQ(in_order.size(), 2u);
  EXPECT_EQ(replay(true), in_order);
}

TEST(InsightDetectorTest, RecordsHaveCloudTrailsShape) {
  InsightDetector d(TestOptions());
  std::vector<int> load(70, 1);
  load.insert(load.end(), 2, 60);
  load.push_back(0);
  const auto events = Feed(&d, load, "Delete\"Bucket");  // a hostile name stays valid JSON
  ASSERT_EQ(events.size(), 2u);
  simdjson::dom::parser parser;
  for (const InsightEvent& e : events) {
    const std::string json = InsightRecordJson(e);
    simdjson::dom::element r;
    ASSERT_EQ(parser.parse(json).get(r), simdjson::SUCCESS) << json;
    EXPECT_EQ(std::string(r["eventType"].get_string().value()), "AwsCloudTrailInsight");
    EXPECT_EQ(std::string(r["eventCategory"].get_string().value()), "Insight");
    EXPECT_EQ(std::string(r["recipientAccountId"].get_string().value()), "111122223333");
    EXPECT_EQ(std::string(r["awsRegion"].get_string().value()), "eu-west-1");
    EXPECT_EQ(std::string(r["sharedEventID"].get_string().value()), e.shared_event_id);
    simdjson::dom::element details = r["insightDetails"];
    EXPECT_EQ(std::string(details["state"].get_string().value()), e.state);
    EXPECT_EQ(std::string(details["eventName"].get_string().value()), "Delete\"Bucket");
    EXPECT_EQ(std::string(details["insightType"].get_string().value()), "ApiCallRateInsight");
    simdjson::dom::element stats = details["insightContext"]["statistics"];
    EXPECT_DOUBLE_EQ(stats["baseline"]["average"].get_double().value(), 1.0);
    EXPECT_EQ(stats["baselineDuration"].get_int64().value(), 60);
    EXPECT_EQ(stats["insightDuration"].error() == simdjson::SUCCESS, e.state == "End");
    EXPECT_EQ(details["insightContext"]["attributions"].get_array().size(), 2u);
  }
  EXPECT_EQ(std::string(parser.parse(InsightRecordJson(events[0]))["eventTime"].get_string().value()),
            "2026-01-01T01:10:00Z");
}

}  // namespace
}  // namespace orgtrail::collector
