// The real orgtrail-collector delivering its export to a real S3 server (Ceph RGW,
// testutil/s3_server.h) with --export-s3-endpoint: the bucket ends up holding exactly the local
// export (same keys under the prefix, same bytes, digests with their signature metadata), also
// across kill -9 of the collector while it uploads, with every event in exactly one log object.
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "collector/export/export_file.h"
#include "collector/delivery/delivery_test_support.h"
#include "collector/export_test_support.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objectstore/s3_client.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "orgtrail/common/time_util.h"
#include "testutil/s3_server.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
using testutil::WaitFor;

constexpr char kAccount[] = "123837392027";
constexpr char kPrefix[] = "org/trails";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class DeliveryCollectorTest : public testutil::S3ServerTest {
 protected:
  void SetUp() override {
    testutil::S3ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pki_ = std::make_unique<testutil::TestPki>(dir_.MakeSubdir("pki"));
    ASSERT_TRUE(pki_->ok());
    client_ = deliverytest::NewS3Client(server());
    ASSERT_NE(client_, nullptr);
    bucket_ = testutil::UniqueBucketName("collector");
    ASSERT_TRUE(client_->CreateBucket(bucket_).ok());
  }

  std::unique_ptr<testutil::CollectorProcess> StartCollector() {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    fs::create_directories(o.log_dir);
    o.tls = pki_->Collector();
    o.extra_args = {"--export-interval", "300ms", "--digest-interval", "2s", "--export-org-id", "o-e2etest0001",
                    "--export-s3-endpoint", server().endpoint(), "--export-s3-bucket", bucket_,
                    "--export-s3-key-prefix", kPrefix, "--keep-local", "true"};  // the folder is compared
    // Credentials the AWS way: the shared credentials file the test server wrote (the collector
    // inherits this test process's environment).
    UseCredentialsFile(server().credentials_file());
    o.name = "collector-" + std::to_string(starts_++);
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static void UseCredentialsFile(const std::string& path) { deliverytest::UseCredentialsFile(path); }

  std::string ExportRoot() { return dir_.Join("data/export"); }

  // Export key -> bytes of every finished local file that is delivered (no temporaries, no sidecars).
  std::map<std::string, std::string> LocalFiles() {
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(ExportRoot(), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string name = it->path().filename().string();
      if (name.rfind(".tmp-", 0) == 0 || EndsWith(name, ".metadata.json")) continue;
      files[fs::relative(it->path(), ExportRoot()).generic_string()] = exporttest::ReadFileOrDie(it->path().string());
    }
    return files;
  }

  // True when the bucket holds exactly LocalFiles() under the prefix with the same bytes.
  bool BucketMirrorsExport(std::string* why) {
    const auto local = LocalFiles();
    auto listed = client_->ListAllObjects(bucket_, "");
    if (!listed.ok()) {
      *why = listed.status().ToString();
      return false;
    }
    std::set<std::string> remote;
    for (const auto& o : *listed) remote.insert(o.key);
    std::set<std::string> want;
    for (const auto& [key, bytes] : local) want.insert(std::string(kPrefix) + "/" + key);
    if (remote != want) {
      *why = "bucket has " + std::to_string(remote.size()) + " objects, export " + std::to_string(want.size());
      return false;
    }
    for (const auto& [key, bytes] : local) {
      auto object = client_->GetObject(bucket_, std::string(kPrefix) + "/" + key);
      if (!object.ok() || object->body != bytes) {
        *why = "different bytes: " + key;
        return false;
      }
    }
    return true;
  }

  // eventID -> number of log objects in the bucket holding it.
  std::map<std::string, int> EventIdsInBucket() {
    std::map<std::string, int> ids;
    auto listed = client_->ListAllObjects(bucket_, std::string(kPrefix) + "/AWSLogs/");
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return ids;
    for (const auto& o : *listed) {
      if (o.key.find("/CloudTrail/") == std::string::npos || !EndsWith(o.key, ".json.gz")) continue;
      auto object = client_->GetObject(bucket_, o.key);
      EXPECT_TRUE(object.ok()) << object.status();
      if (!object.ok()) continue;
      auto doc = GzipDecompress(object->body);
      EXPECT_TRUE(doc.ok()) << o.key;
      if (!doc.ok()) continue;
      for (const auto& r : exporttest::SplitRecords(*doc)) ids[exporttest::TopLevelString(r, "eventID")]++;
    }
    return ids;
  }

  size_t ObjectCount() {
    auto listed = client_->ListAllObjects(bucket_, "");
    return listed.ok() ? listed->size() : 0;
  }

  testutil::TempDir dir_{"delivery-e2e"};
  std::unique_ptr<testutil::TestPki> pki_;
  std::unique_ptr<objectstore::S3Client> client_;
  std::string bucket_;
  int starts_ = 0;
  int ctl_runs_ = 0;
};

std::vector<std::string> Events(int from, int count) {
  std::vector<std::string> events;
  for (int i = from; i < from + count; ++i) {
    testutil::SyntheticEvent e;
    e.event_id = "s3-" + std::to_string(i);
    e.account_id = kAccount;
    e.region = "us-east-1";
    e.event_time_us = 1700000000000000 + i * 1000000ll;
    events.push_back(testutil::SyntheticEventJson(e));
  }
  return events;
}

Status Send(testutil::CollectorProcess* collector, testutil::TestPki& pki,
            const std::vector<std::string>& events) {
  auto client = testutil::IngestClient::Connect(collector->target(), pki.Agent(kAccount, "us-east-1"),
                                                testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"),
                                                1, std::chrono::seconds(60));
  if (!client.ok()) return client.status();
  auto hello = (*client)->Hello();
  if (!hello.ok()) return hello.status();
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<std::string> chunk(events.begin() + i, events.begin() + std::min(events.size(), i + 50));
    auto ack = (*client)->SendEvents(chunk);
    if (!ack.ok()) return ack.status();
  }
  return absl::OkStatus();
}

TEST_F(DeliveryCollectorTest, TheBucketMirrorsTheExportWithDigestSignatures) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  ASSERT_TRUE(Send(collector.get(), *pki_, Events(0, 300)).ok());
  std::string why;
  ASSERT_TRUE(WaitFor([&] {
    return EventIdsInBucket().size() == 300 && ObjectCount() > 0 && BucketMirrorsExport(&why);
  }, std::chrono::seconds(120), std::chrono::milliseconds(300))) << why << "\n" << collector->process()->ReadLog();
  // Digests arrive (2 s interval) with their signature as S3 metadata, equal to the sidecar's.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& [key, bytes] : LocalFiles()) {
      if (key.find("/CloudTrail-Digest/") != std::string::npos) return BucketMirrorsExport(&why);
    }
    return false;
  }, std::chrono::seconds(120), std::chrono::milliseconds(300))) << why;
  int digests = 0;
  for (const auto& [key, bytes] : LocalFiles()) {
    if (key.find("/CloudTrail-Digest/") == std::string::npos) continue;
    auto info = client_->HeadObject(bucket_, std::string(kPrefix) + "/" + key);
    ASSERT_TRUE(info.ok()) << info.status();
    const std::string sidecar = exporttest::ReadFileOrDie(ExportRoot() + "/" + key + ".metadata.json");
    EXPECT_EQ(info->metadata.at("signature-algorithm"), "SHA256withRSA");
    EXPECT_NE(sidecar.find("\"signature\":\"" + info->metadata.at("signature") + "\""), std::string::npos) << key;
    ++digests;
  }
  EXPECT_GE(digests, 1);
  EXPECT_GT(collector->MetricValue("orgtrail_s3_objects_uploaded_total"), 0);
  for (const auto& [id, n] : EventIdsInBucket()) EXPECT_EQ(n, 1) << id;
  // A logging trail naming the bucket: its status shows what the bucket confirmed (these admin
  // calls are self-audit records, so log files follow as well as the 2-second digests).
  const TlsFiles admin = pki_->Admin("root");
  auto ctl = [&](std::vector<std::string> args) {
    return testutil::RunOrgtrailctl(std::move(args), collector->target(), admin, dir_.Join("logs"),
                                    "ctl-" + std::to_string(ctl_runs_++));
  };
  ASSERT_EQ(ctl({"create-trail", "--name", "org-trail", "--s3-bucket-name", bucket_, "--is-organization-trail",
                 "--enable-log-file-validation"}).exit_code, 0);
  ASSERT_EQ(ctl({"start-logging", "--name", "org-trail"}).exit_code, 0);
  testutil::CtlResult status;
  ASSERT_TRUE(WaitFor([&] {
    status = ctl({"get-trail-status", "--name", "org-trail"});
    return status.out.find("\"LatestDigestDeliveryTime\": \"") != std::string::npos &&
           status.out.find("\"LatestDeliveryTime\": \"") != std::string::npos;
  }, std::chrono::seconds(60), std::chrono::milliseconds(300))) << status.out << status.err;
  EXPECT_NE(status.out.find("\"LatestDeliveryTime\": \""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"LatestDeliveryError\": null"), std::string::npos) << status.out;
}

using exporttest::ValidateRun;

ValidateRun RunValidate(const std::string& root, const std::vector<std::string>& more, const std::string& log_dir,
                        const std::string& name) {
  return exporttest::RunValidate(root, kAccount, more, log_dir, name);
}

TEST_F(DeliveryCollectorTest, ValidateLogsReadsTheBucketWithTheSameResultAsTheFolder) {
  auto collector = StartCollector();  // delivered under the key prefix kPrefix
  ASSERT_NE(collector, nullptr);
  ASSERT_TRUE(Send(collector.get(), *pki_, Events(0, 200)).ok());
  std::string why;
  ASSERT_TRUE(WaitFor([&] {
    bool digest = false;
    for (const auto& [key, bytes] : LocalFiles()) digest = digest || key.find("/CloudTrail-Digest/") != std::string::npos;
    return digest && EventIdsInBucket().size() == 200 && BucketMirrorsExport(&why);
  }, std::chrono::seconds(120), std::chrono::milliseconds(300))) << why;
  collector->process()->Stop();  // nothing moves while the two are compared
  ASSERT_TRUE(BucketMirrorsExport(&why)) << why;
  // The digests name the bucket and the keys under the prefix, as they are in the bucket; the
  // folder's manifest says so, and the folder validates as the bucket's copy does.
  const std::string url = "s3://" + bucket_ + "/" + kPrefix;
  const std::vector<std::string> s3 = {"--s3-endpoint", server().endpoint()};
  const ValidateRun folder = RunValidate(ExportRoot(), {}, dir_.Join("logs"), "validate-folder");
  const ValidateRun bucket = RunValidate(url, s3, dir_.Join("logs"), "validate-s3");
  EXPECT_EQ(bucket.exit_code, folder.exit_code) << bucket.out << bucket.err << "\n---\n" << folder.out << folder.err;
  EXPECT_EQ(bucket.out, folder.out);
  EXPECT_EQ(bucket.err, folder.err);
  EXPECT_NE(bucket.out.find("digest files valid"), std::string::npos) << bucket.out << bucket.err;
  // A log object altered in the bucket is reported there, with exit status 1.
  auto listed = client_->ListAllObjects(bucket_, std::string(kPrefix) + "/AWSLogs/");
  ASSERT_TRUE(listed.ok());
  std::string altered;
  for (const auto& o : *listed) {
    if (o.key.find("/CloudTrail/") != std::string::npos) altered = o.key;
  }
  ASSERT_FALSE(altered.empty());
  auto original = client_->GetObject(bucket_, altered);
  ASSERT_TRUE(original.ok());
  std::string tampered = original->body;
  tampered[tampered.size() / 2] ^= 0x01;
  ASSERT_TRUE(client_->PutObject(bucket_, altered, tampered).ok());
  const ValidateRun after = RunValidate(url, s3, dir_.Join("logs"), "validate-s3-tampered");
  EXPECT_EQ(after.exit_code, 1) << after.out << after.err;
  EXPECT_NE(after.err.find("/" + altered + "\tINVALID"), std::string::npos) << after.err;
  // A wrong secret is a clear error before any result line.
  const std::string bad_credentials = dir_.Join("bad-credentials");
  std::ofstream(bad_credentials) << "[default]\naws_access_key_id = " << server().access_key_id()
                                 << "\naws_secret_access_key = wrong-secret\n";
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", bad_credentials.c_str(), 1);
  const ValidateRun refused = RunValidate(url, s3, dir_.Join("logs"), "validate-s3-bad-secret");
  UseCredentialsFile(server().credentials_file());
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("cannot list"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "");
}

TEST_F(DeliveryCollectorTest, KillNineWhileUploadingLeavesTheBucketCompleteWithoutDoubles) {
  int sent = 0;
  for (int kill = 0; kill < 3; ++kill) {
    auto collector = StartCollector();
    ASSERT_NE(collector, nullptr);
    const size_t before = ObjectCount();
    ASSERT_TRUE(Send(collector.get(), *pki_, Events(sent, 200)).ok()) << collector->process()->ReadLog();
    sent += 200;
    // kill -9 as soon as this run's uploads have begun (condition, not a timer).
    ASSERT_TRUE(WaitFor([&] { return ObjectCount() > before; }, std::chrono::seconds(120), std::chrono::milliseconds(5)))
        << collector->process()->ReadLog();
    collector->process()->Kill(SIGKILL);
    collector->process()->Wait(std::chrono::seconds(30));
  }
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  std::string why;
  std::map<std::string, int> ids;
  ASSERT_TRUE(WaitFor([&] {
    ids = EventIdsInBucket();
    return ids.size() == static_cast<size_t>(sent) && BucketMirrorsExport(&why);
  }, std::chrono::seconds(180), std::chrono::milliseconds(300))) << ids.size() << " " << why << "\n"
                                                                  << collector->process()->ReadLog();
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  for (int i = 0; i < sent; ++i) EXPECT_EQ(ids.count("s3-" + std::to_string(i)), 1u) << i;
}

TEST_F(DeliveryCollectorTest, BadSettingsStopTheStartWithAClearError) {
  testutil::CollectorProcessOptions o;
  o.data_dir = dir_.Join("data-bad");
  o.log_dir = dir_.Join("logs");
  fs::create_directories(o.log_dir);
  o.tls = pki_->Collector();
  o.extra_args = {"--export-s3-endpoint", server().endpoint(), "--export-s3-bucket", bucket_};
  UseCredentialsFile(dir_.Join("no-such-file"));
  o.name = "collector-bad";
  o.start_timeout = std::chrono::seconds(30);
  auto c = testutil::CollectorProcess::Start(o);
  ASSERT_FALSE(c.ok());
  const std::string log = exporttest::ReadFileOrDie(dir_.Join("logs/collector-bad.stderr")) +
                          exporttest::ReadFileOrDie(dir_.Join("logs/collector-bad.stdout"));
  EXPECT_THAT(log, ::testing::HasSubstr("--export-s3-endpoint: no AWS credentials"));

  // Digests name the bucket they are delivered to: another --export-bucket is refused.
  UseCredentialsFile(server().credentials_file());
  o.extra_args.insert(o.extra_args.end(), {"--export-bucket", "some-other-name"});
  o.name = "collector-bad-bucket";
  c = testutil::CollectorProcess::Start(o);
  ASSERT_FALSE(c.ok());
  const std::string bucket_log = exporttest::ReadFileOrDie(dir_.Join("logs/collector-bad-bucket.stderr")) +
                                 exporttest::ReadFileOrDie(dir_.Join("logs/collector-bad-bucket.stdout"));
  EXPECT_THAT(bucket_log, ::testing::HasSubstr("--export-bucket: must be the --export-s3-bucket"));
}

}  // namespace
}  // namespace orgtrail::collector
