// Alarm webhooks through libcurl (collector/alarms/webhook_client.h): URL rules, secrets read from
// files, and delivery over real HTTPS to an in-process libmicrohttpd receiver with a certificate
// of the test PKI: the CA named by ca_file is trusted, the system store and another CA are not;
// the Authorization header and the HMAC signature arrive as the receiver can check them.
#include "collector/alarms/webhook_client.h"


#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collector/alarms/alarm_config.h"
#include "collector/alarms/alarm_notifier.h"
#include "collector/alarms/alarm_outbox.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/pki.h"
#include "testutil/https_receiver.h"
#include "testutil/net.h"
#include "testutil/pki_fixture.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

using testutil::HttpsReceiver;

TEST(AlarmConfig, WebhookUrls) {
  for (const char* good : {"http://127.0.0.1:8088/orgtrail/alarms?x=1", "http://[::1]:9/", "http://example.com",
                           "https://hooks.example.com/services/T0/B0/x"}) {
    EXPECT_TRUE(CheckWebhookUrl(good).ok()) << good;
  }
  for (const char* bad : {"", "ftp://x", "http://", "http://:80/", "http://h:abc/", "http://h:99999/",
                          "http://h/a b", "http://[::1/", "http://h/\r\nX-Injected: 1", "file:///etc/passwd",
                          "https://user:secret@example.com/hook", "gopher://h/"}) {
    EXPECT_FALSE(CheckWebhookUrl(bad).ok()) << bad;
  }
  EXPECT_NE(CheckWebhookUrl("https://u:p@h/").message().find("credentials"), std::string_view::npos);
  EXPECT_FALSE(CheckWebhookUrl("https://h/" + std::string(3000, 'a')).ok());
}

// Credentials and the signing secret come from files named in the config, read at load.
TEST(AlarmConfig, WebhookSecretsComeFromFiles) {
  testutil::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.Join(name), std::ios::binary) << text;
    return dir.Join(name);
  };
  const std::string token = write("token", "s3cr3t-token\n");
  const std::string basic = write("basic", "alice:pa:ss\n");
  const std::string hmac = write("hmac", "shared-secret\n");
  const std::string ca = write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  auto parse = [&](const std::string& extra) {
    return ParseAlarmsConfig(R"({"notifications":[{"name":"sec","type":"webhook","url":"https://h/x")" + extra +
                             R"(}],"metric_filters":[],"alarms":[]})");
  };
  auto config = parse(R"(,"bearer_token_file":")" + token + R"(","hmac_secret_file":")" + hmac +
                      R"(","ca_file":")" + ca + R"(")");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->notifications[0].authorization, "Bearer s3cr3t-token");
  EXPECT_EQ(config->notifications[0].hmac_secret, "shared-secret");
  EXPECT_EQ(config->notifications[0].ca_file, ca);
  config = parse(R"(,"basic_auth_file":")" + basic + R"(")");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->notifications[0].authorization, "Basic " + Base64Encode("alice:pa:ss"));
  for (const std::string& bad : std::vector<std::string>{
           R"(,"bearer_token_file":"/no/such/file")", R"(,"basic_auth_file":")" + token + R"(")",
        R"(,"bearer_token_file":")" + token + R"(","basic_auth_file":")" + basic + R"(")",
        R"(,"hmac_secret_file":")" + write("empty", "\n") + R"(")", R"(,"ca_file":"/dev/zero")",
        R"(,"hmac_secret_file":")" + write("huge", std::string(70000, 'x')) + R"(")",
        R"(,"bearer_token_file":")" + write("ctl", "a\x01b") + R"(")"}) {
    auto refused = parse(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  auto command = ParseAlarmsConfig(R"({"notifications":[{"name":"c","type":"command","argv":["/bin/true"],"hmac_secret_file":")" +
                                   hmac + R"("}],"metric_filters":[],"alarms":[]})");
  EXPECT_EQ(command.status().code(), absl::StatusCode::kInvalidArgument);
}

// RFC 4231 test case 2, as the receiver recomputes it.
TEST(WebhookClient, SignatureIsHmacSha256OfTheBody) {
  EXPECT_EQ(WebhookSignature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookClient, HttpsWithTheNamedCaAuthenticatedAndSigned) {
  testutil::TempDir dir;
  testutil::TestPki pki(dir.Join("pki"));
  HttpsReceiver receiver(pki.Collector("receiver"));
  ASSERT_TRUE(receiver.ok()) << "libmicrohttpd without TLS support";
  NotificationTarget target;
  target.name = "sec";
  target.url = receiver.url();
  target.ca_file = pki.Collector("receiver").ca_cert_path;
  target.authorization = "Bearer s3cr3t";
  target.hmac_secret = "shared-secret";
  const std::string body = R"({"AlarmName":"RootAccountUsage","NewStateValue":"ALARM"})";
  Status status = PostWebhook(target, body);
  ASSERT_TRUE(status.ok()) << status;
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].authorization, "Bearer s3cr3t");
  EXPECT_EQ(requests[0].signature, WebhookSignature("shared-secret", body));

  // The system trust store does not know the test CA, and another organization's CA is not it.
  target.ca_file.clear();
  status = PostWebhook(target, body);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  testutil::TestPki other(dir.Join("other"), "other.org");
  target.ca_file = other.Collector("x").ca_cert_path;
  status = PostWebhook(target, body);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(receiver.requests().size(), 1u);
}

TEST(WebhookClient, NotifierDeliversOverHttps) {
  testutil::TempDir dir;
  testutil::TestPki pki(dir.Join("pki"));
  HttpsReceiver receiver(pki.Collector("receiver"));
  ASSERT_TRUE(receiver.ok());
  NotificationTarget target;
  target.name = "sec";
  target.url = receiver.url();
  target.ca_file = pki.Collector("receiver").ca_cert_path;
  target.hmac_secret = "k";
  Logger logger("test", 2, LogLevel::kError);
  MetricsRegistry metrics;
  AlarmNotifier notifier({target}, &logger, &metrics);
  ASSERT_TRUE(notifier.Start().ok());
  notifier.Notify({"sec"}, R"({"AlarmName":"a"})");
  ASSERT_TRUE(testutil::WaitFor([&] { return notifier.delivered() == 1; }, std::chrono::seconds(30)));
  notifier.Stop();
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].signature, WebhookSignature("k", R"({"AlarmName":"a"})"));
}

// The durable outbox: a notification the receiver could not take survives a restart of the
// notifier and is delivered once, with the delivery id it was given when it was queued.
TEST(AlarmOutboxTest, UndeliveredNotificationSurvivesARestart) {
  testutil::TempDir dir;
  testutil::TestPki pki(dir.Join("pki"));
  const std::string outbox_dir = dir.Join("outbox");
  Logger logger("test", 2, LogLevel::kError);
  MetricsRegistry metrics;
  NotificationTarget target;
  target.name = "sec";
  target.url = "https://127.0.0.1:" + std::to_string(testutil::FreePort()) + "/alarms";  // nobody listens
  target.ca_file = pki.Collector("receiver").ca_cert_path;
  target.timeout_ms = 2000;
  const std::string body = R"({"AlarmName":"RootAccountUsage"})";
  {
    AlarmNotifier notifier({target}, &logger, &metrics, 1000, outbox_dir);
    ASSERT_TRUE(notifier.Start().ok());
    notifier.Notify({"sec"}, body);
    ASSERT_TRUE(testutil::WaitFor([&] { return notifier.failed() == 1; }, std::chrono::seconds(60)));
    notifier.Stop();
    EXPECT_EQ(notifier.outbox_size(), 1u) << "a failed notification is kept, not dropped";
  }
  auto outbox = AlarmOutbox::Open(outbox_dir);
  ASSERT_TRUE(outbox.ok());
  std::vector<std::string> corrupt;
  auto left = (*outbox)->Load(&corrupt);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].target, "sec");
  EXPECT_EQ(left[0].body, body);
  EXPECT_TRUE(corrupt.empty());

  HttpsReceiver receiver(pki.Collector("receiver"));
  ASSERT_TRUE(receiver.ok());
  target.url = receiver.url();  // the receiver is back (at its new address)
  AlarmNotifier restarted({target}, &logger, &metrics, 1000, outbox_dir);
  ASSERT_TRUE(restarted.Start().ok());
  ASSERT_TRUE(testutil::WaitFor([&] { return restarted.delivered() == 1; }, std::chrono::seconds(30)));
  restarted.Stop();
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].body, body);
  EXPECT_EQ(receiver.requests()[0].delivery_id, left[0].delivery_id);
  EXPECT_EQ(restarted.outbox_size(), 0u);
}

// A receiver that fails a while: the notification is tried again after a backoff, and once.
TEST(AlarmOutboxTest, FailedDeliveryIsRetriedLater) {
  testutil::TempDir dir;
  testutil::TestPki pki(dir.Join("pki"));
  HttpsReceiver receiver(pki.Collector("receiver"), /*fail_first=*/3);  // the first round's 3 tries
  ASSERT_TRUE(receiver.ok());
  NotificationTarget target;
  target.name = "sec";
  target.url = receiver.url();
  target.ca_file = pki.Collector("receiver").ca_cert_path;
  Logger logger("test", 2, LogLevel::kError);
  MetricsRegistry metrics;
  AlarmNotifier notifier({target}, &logger, &metrics, 1000, dir.Join("outbox"));
  ASSERT_TRUE(notifier.Start().ok());
  notifier.Notify({"sec"}, "{}");
  ASSERT_TRUE(testutil::WaitFor([&] { return notifier.delivered() == 1; }, std::chrono::seconds(60)));
  EXPECT_EQ(notifier.failed(), 1u);
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(notifier.outbox_size(), 0u);
}

TEST(AlarmOutboxTest, FilesAreDurableOrderedAndCorruptOnesSetAside) {
  testutil::TempDir dir;
  const std::string path = dir.Join("outbox");
  {
    auto outbox = AlarmOutbox::Open(path);
    ASSERT_TRUE(outbox.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*outbox)->Add("t" + std::to_string(i), "body\n" + std::to_string(i)).ok());
    ASSERT_TRUE((*outbox)->Remove(2).ok());
    EXPECT_TRUE((*outbox)->Remove(2).ok());  // already gone: fine
  }
  std::ofstream(path + "/0000000000000000009.json") << "no newline";
  std::ofstream(path + "/0000000000000000010.json.tmp") << "t\n";  // a crash mid-Add: never queued
  auto outbox = AlarmOutbox::Open(path);
  ASSERT_TRUE(outbox.ok());
  std::vector<std::string> corrupt;
  auto entries = (*outbox)->Load(&corrupt);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].target, "t0");
  EXPECT_EQ(entries[0].body, "body\n0");
  EXPECT_EQ(entries[1].target, "t2");
  EXPECT_NE(entries[0].delivery_id, entries[1].delivery_id);
  EXPECT_EQ(corrupt, std::vector<std::string>{"0000000000000000009.json"});
  auto next = (*outbox)->Add("t", "b");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 10u) << "sequence numbers continue after the highest file seen (its temp file is rewritten)";
  EXPECT_FALSE(AlarmOutbox::Open("/proc/no-such/outbox").ok());
}

}  // namespace
}  // namespace orgtrail::collector
