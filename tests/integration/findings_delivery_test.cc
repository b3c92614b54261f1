// Findings reach a webhook exactly once per target: the real collector runs the SigmaHQ rules and
// sends each finding at or above the minimum level to an HTTPS receiver of the test (named CA,
// HMAC signature), retrying while the receiver answers 500, and a
// restart of the collector neither repeats a delivered finding nor loses the next one.
#include <openssl/evp.h>

#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "orgtrail/common/hash.h"
#include "testutil/https_receiver.h"
#include "testutil/ingest_client.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail {
namespace {

TEST(FindingsDeliveryTest, EachFindingReachesTheWebhookOnceAcrossRetriesAndARestart) {
  testutil::TempDir dir("findings-delivery");
  testutil::TestPki pki(dir.Join("pki"));
  const TlsFiles receiver_tls = pki.Collector("receiver");
  testutil::HttpsReceiver receiver(receiver_tls, /*fail_first=*/2);
  ASSERT_TRUE(receiver.ok());
  std::ofstream(dir.Join("hmac")) << "shared-secret\n";
  std::ofstream(dir.Join("alarms.json"))
      << R"({"notifications":[{"name":"soc","type":"webhook","url":")" << receiver.url() << R"(","ca_file":")"
      << receiver_tls.ca_cert_path << R"(","hmac_secret_file":")" << dir.Join("hmac")
      << R"(","timeout_ms":2000}],"metric_filters":[],"alarms":[]})";
  testutil::CollectorProcessOptions options;
  options.data_dir = dir.Join("data");
  options.log_dir = dir.MakeSubdir("logs");
  options.tls = pki.Collector();
  options.extra_args = {"--sigma-rules", std::string(ORGTRAIL_SHARED_DATA_DIR) + "/sigma-cloudtrail/rules",
                        "--alarms", dir.Join("alarms.json"), "--findings-notify", "soc",
                        "--findings-notify-min-level", "medium"};
  auto send = [&](testutil::CollectorProcess* c, const std::string& id, const std::string& name) {
    auto agent = testutil::IngestClient::Connect(c->target(), pki.Agent("111111111111", "us-east-1", "a1"),
                                                 testutil::AgentSpiffeId("example.org", "111111111111", "us-east-1", "a1"));
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE((*agent)->Hello().ok());
    testutil::SyntheticEvent spec;
    spec.event_id = id;
    spec.event_source = "cloudtrail.amazonaws.com";
    spec.event_name = name;
    ASSERT_TRUE((*agent)->SendEvents({testutil::SyntheticEventJson(spec)}).ok());
  };
  {
    options.name = "collector-1";
    auto collector = testutil::CollectorProcess::Start(options);
    ASSERT_TRUE(collector.ok()) << collector.status();
    send(collector->get(), "stop-1", "StopLogging");
    // Two 500 answers (retried), then accepted: recorded once.
    ASSERT_TRUE(testutil::WaitFor([&] { return receiver.requests().size() >= 1; }, std::chrono::seconds(60)))
        << (*collector)->process()->ReadLog();
    EXPECT_EQ((*collector)->MetricValue("orgtrail_findings_notifications_total{target=\"soc\",result=\"failed\"}"), 2);
    EXPECT_EQ((*collector)->MetricValue("orgtrail_findings_notifications_total{target=\"soc\",result=\"delivered\"}"),
              1);
    (*collector)->process()->Stop();
  }
  auto first = receiver.requests();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].signature, "sha256=" + testutil::HmacSha256Hex("shared-secret", first[0].body));
  EXPECT_NE(first[0].body.find("\"ruleId\":\"4db60cc0-36fb-42b7-9b58-a5b53019fb74\""), std::string::npos) << first[0].body;
  EXPECT_NE(first[0].body.find("\"eventId\":\"stop-1\""), std::string::npos) << first[0].body;
  EXPECT_NE(first[0].body.find("\"level\":\"medium\""), std::string::npos) << first[0].body;
  EXPECT_EQ(first[0].delivery_id.size(), 32u);

  options.name = "collector-2";
  auto collector = testutil::CollectorProcess::Start(options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  send(collector->get(), "delete-1", "DeleteTrail");
  ASSERT_TRUE(testutil::WaitFor([&] { return receiver.requests().size() >= 2; }, std::chrono::seconds(60)));
  auto all = receiver.requests();
  ASSERT_EQ(all.size(), 2u) << "stop-1 was delivered again after the restart";
  EXPECT_NE(all[1].body.find("\"eventId\":\"delete-1\""), std::string::npos) << all[1].body;
  EXPECT_NE(all[1].delivery_id, first[0].delivery_id);
}

}  // namespace
}  // namespace orgtrail
