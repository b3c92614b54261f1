// An alarm notification survives a collector restart (issue 19): the real collector with an
// alarm on StopLogging notifying an HTTPS webhook (named CA, HMAC secret from a file) whose
// receiver is down; the event arrives, the alarm fires, delivery fails and the notification
// stays in the collector's outbox; the collector is stopped, the receiver comes up, the
// collector starts again and delivers it: once, with a signature the receiver verifies.
#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "orgtrail/common/hash.h"
#include "testutil/https_receiver.h"
#include "testutil/ingest_client.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

TEST(AlarmDeliveryTest, AnAlertSurvivesACollectorRestartAndArrivesSigned) {
  testutil::TempDir dir;
  testutil::TestPki pki(dir.Join("pki"));
  const TlsFiles receiver_tls = pki.Collector("receiver");
  const int port = testutil::FreePort();  // the receiver's, down for now
  std::ofstream(dir.Join("hmac")) << "shared-secret\n";
  std::ofstream(dir.Join("alarms.json"))
      << R"({"notifications":[{"name":"sec","type":"webhook","url":"https://127.0.0.1:)" << port
      << R"(/alarms","ca_file":")" << receiver_tls.ca_cert_path << R"(","hmac_secret_file":")" << dir.Join("hmac")
      << R"(","timeout_ms":2000}],
          "metric_filters":[{"name":"stop","pattern":"{ $.eventName = \"StopLogging\" }","metric_name":"Stops"}],
          "alarms":[{"name":"TrailStopped","metric_name":"Stops","statistic":"Sum","period_seconds":300,
                     "evaluation_periods":1,"threshold":1,"comparison_operator":"GreaterThanOrEqualToThreshold",
                     "treat_missing_data":"notBreaching","alarm_actions":["sec"]}]})";
  testutil::CollectorProcessOptions options;
  options.data_dir = dir.Join("data");
  options.log_dir = dir.MakeSubdir("logs");
  options.tls = pki.Collector();
  options.extra_args = {"--alarms", dir.Join("alarms.json")};
  options.name = "collector-1";
  auto collector = testutil::CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  {
    const std::string agent_id = testutil::AgentSpiffeId("example.org", "111111111111", "us-east-1", "a1");
    auto agent = testutil::IngestClient::Connect((*collector)->target(), pki.Agent("111111111111", "us-east-1", "a1"),
                                                 agent_id);
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Hello().ok());
    testutil::SyntheticEvent e;
    e.event_id = "00000000-0000-4000-8000-000000000001";
    e.event_source = "cloudtrail.amazonaws.com";
    e.event_name = "StopLogging";
    e.read_only = false;
    e.event_time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    ASSERT_TRUE((*agent)->SendEvents({testutil::SyntheticEventJson(e)}).ok());
    (*agent)->Finish();
  }
  const std::string failed = "orgtrail_alarm_notifications_total{target=\"sec\",result=\"failed\"}";
  ASSERT_TRUE(testutil::WaitFor([&] { return (*collector)->MetricValue(failed) >= 1; }, std::chrono::seconds(60)))
      << (*collector)->process()->ReadStderr();
  (*collector)->process()->Kill(SIGTERM);
  ASSERT_TRUE((*collector)->process()->Wait(std::chrono::seconds(60)).has_value());

  testutil::HttpsReceiver receiver(receiver_tls, 0, port);
  ASSERT_TRUE(receiver.ok()) << "cannot listen on " << port;
  options.name = "collector-2";
  collector = testutil::CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  ASSERT_TRUE(testutil::WaitFor([&] { return !receiver.requests().empty(); }, std::chrono::seconds(60)))
      << (*collector)->process()->ReadStderr();
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].body.find("\"AlarmName\":\"TrailStopped\""), std::string::npos) << requests[0].body;
  EXPECT_EQ(requests[0].signature, "sha256=" + testutil::HmacSha256Hex("shared-secret", requests[0].body));
  EXPECT_EQ(requests[0].delivery_id.size(), 32u);
}

}  // namespace
}  // namespace orgtrail
