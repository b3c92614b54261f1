// get-trail-status reports deliveries for real (CloudTrail's fields), against the real collector
// on loopback: a logging trail naming the archive's bucket gets LatestDeliveryTime and, with log
// file validation, LatestDigestDeliveryTime once the archive's files are durable; a trail naming
// another bucket is delivered by its own pipeline (to <data-dir>/trails/<name>/ without an object
// store) and gets its own delivery times; a trail that is not logging gets nothing. With object storage that refuses the connection, the attempt is reported
// with the store's error and no delivery time.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

constexpr char kAccount[] = "111111111111";

class TrailStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<testutil::TestPki>(dir_.Join("pki"));
    std::filesystem::create_directories(dir_.Join("logs"));
    admin_ = pki_->Admin("root");
    agent_ = pki_->Agent(kAccount, "us-east-1", "a1");
  }
  std::unique_ptr<testutil::CollectorProcess> StartCollector(const std::string& name, std::vector<std::string> more) {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data-" + name);
    o.log_dir = dir_.Join("logs");
    o.tls = pki_->Collector("central");
    o.name = name;
    o.extra_args = {"--export-interval", "300ms", "--digest-interval", "2s", "--export-bucket", "audit-bucket"};
    o.extra_args.insert(o.extra_args.end(), more.begin(), more.end());
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  testutil::CtlResult Ctl(testutil::CollectorProcess* c, std::vector<std::string> args) {
    return testutil::RunOrgtrailctl(std::move(args), c->target(), admin_, dir_.Join("logs"), "ctl-" + std::to_string(runs_++));
  }
  void CreateTrails(testutil::CollectorProcess* c) {
    ASSERT_EQ(Ctl(c, {"create-trail", "--name", "org-trail", "--s3-bucket-name", "audit-bucket", "--is-organization-trail",
                      "--is-multi-region-trail", "--enable-log-file-validation"}).exit_code, 0);
    ASSERT_EQ(Ctl(c, {"create-trail", "--name", "elsewhere", "--s3-bucket-name", "other-bucket", "--is-organization-trail"})
                  .exit_code, 0);
    ASSERT_EQ(Ctl(c, {"create-trail", "--name", "idle-trail", "--s3-bucket-name", "audit-bucket", "--is-organization-trail"})
                  .exit_code, 0);
    for (const char* name : {"org-trail", "elsewhere"}) ASSERT_EQ(Ctl(c, {"start-logging", "--name", name}).exit_code, 0);
  }
  void Send(testutil::CollectorProcess* c, int n) {
    auto client = testutil::IngestClient::Connect(c->target(), agent_,
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"));
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Hello().ok());
    std::vector<std::string> raws;
    for (int i = 0; i < n; ++i) {
      testutil::SyntheticEvent spec;
      spec.event_id = "status-" + std::to_string(i);
      raws.push_back(testutil::SyntheticEventJson(spec));
    }
    ASSERT_TRUE((*client)->SendEvents(raws).ok());
  }
  // get-trail-status as "field -> JSON text of its value" once `done` holds (or the last answer).
  std::map<std::string, std::string> Status(testutil::CollectorProcess* c, const std::string& trail,
                                            const std::function<bool(const std::map<std::string, std::string>&)>& done) {
    std::map<std::string, std::string> fields;
    for (int attempt = 0; attempt < 200; ++attempt) {
      testutil::CtlResult r = Ctl(c, {"get-trail-status", "--name", trail});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      simdjson::dom::parser parser;
      simdjson::dom::object object;
      if (parser.parse(r.out).get(object) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << r.out;
        return fields;
      }
      fields.clear();
      for (auto [key, value] : object) fields[std::string(key)] = simdjson::minify(value);
      if (done(fields)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return fields;
  }

  testutil::TempDir dir_{"trail-status"};
  std::unique_ptr<testutil::TestPki> pki_;
  TlsFiles admin_, agent_;
  int runs_ = 0;
};

TEST_F(TrailStatusTest, DeliveriesOfTheExportShowInTheStatusOfTheTrailsItServes) {
  auto c = StartCollector("collector", {});
  ASSERT_NE(c, nullptr);
  CreateTrails(c.get());
  Send(c.get(), 20);
  auto delivered = Status(c.get(), "org-trail", [](const auto& f) {
    return f.at("LatestDeliveryTime") != "null" && f.at("LatestDigestDeliveryTime") != "null";
  });
  EXPECT_NE(delivered["LatestDeliveryTime"], "null");
  EXPECT_EQ(delivered["LatestDeliveryError"], "null");
  EXPECT_NE(delivered["LatestDigestDeliveryTime"], "null");
  EXPECT_EQ(delivered["LatestDigestDeliveryError"], "null");
  EXPECT_EQ(delivered["LatestDeliveryAttemptTime"], delivered["LatestDeliveryAttemptSucceeded"]);
  EXPECT_EQ(delivered["IsLogging"], "true");
  EXPECT_NE(delivered["StartLoggingTime"], "null");

  auto elsewhere = Status(c.get(), "elsewhere", [](const auto& f) { return f.at("LatestDeliveryTime") != "null"; });
  EXPECT_NE(elsewhere["LatestDeliveryTime"], "null");
  EXPECT_EQ(elsewhere["LatestDeliveryError"], "null");
  EXPECT_EQ(elsewhere["LatestDigestDeliveryTime"], "null") << "no log file validation on this trail";
  // Its own copy, in CloudTrail's layout, without digests.
  bool log_file = false, digest = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Join("data-collector/trails/elsewhere"))) {
    log_file = log_file || e.path().string().find("/CloudTrail/") != std::string::npos;
    digest = digest || e.path().string().find("/CloudTrail-Digest/") != std::string::npos;
  }
  EXPECT_TRUE(log_file);
  EXPECT_FALSE(digest);

  auto idle = Status(c.get(), "idle-trail", [](const auto&) { return true; });
  EXPECT_EQ(idle["IsLogging"], "false");
  EXPECT_EQ(idle["LatestDeliveryTime"], "null");
  EXPECT_EQ(idle["LatestDeliveryAttemptTime"], "null");
}

TEST_F(TrailStatusTest, AFailingObjectStoreIsTheTrailsLatestDeliveryError) {
  // Nothing listens on this port: every upload pass fails with the connection's error.
  int closed_port = 0;
  {
    auto probe = StartCollector("probe", {});  // any free port that is then closed again
    ASSERT_NE(probe, nullptr);
    closed_port = std::stoi(probe->target().substr(probe->target().rfind(':') + 1));
  }
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  auto c = StartCollector("collector-s3", {"--export-s3-endpoint", "http://127.0.0.1:" + std::to_string(closed_port),
                                           "--export-s3-bucket", "audit-bucket"});
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_NE(c, nullptr);
  CreateTrails(c.get());
  Send(c.get(), 5);
  auto failing = Status(c.get(), "org-trail", [](const auto& f) { return f.at("LatestDeliveryError") != "null"; });
  EXPECT_NE(failing["LatestDeliveryError"].find("UNAVAILABLE"), std::string::npos) << failing["LatestDeliveryError"];
  EXPECT_NE(failing["LatestDeliveryAttemptTime"], "null");
  EXPECT_EQ(failing["LatestDeliveryTime"], "null") << "nothing reached the bucket";
  EXPECT_EQ(failing["LatestDeliveryAttemptSucceeded"], "null");
}

}  // namespace
}  // namespace orgtrail
