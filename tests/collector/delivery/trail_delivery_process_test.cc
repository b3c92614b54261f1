// Trails drive delivery, end to end: the real orgtrail-collector with an object store (Ceph RGW,
// testutil/s3_server.h) and two trails created with orgtrailctl: an organization trail of
// management events to one bucket under a key prefix, and a trail of S3 data events and S3
// management events to another bucket. Each bucket receives exactly what its trail selects (an S3
// management event is in both, once in each), with digests that validate-logs accepts on s3://,
// real delivery times in get-trail-status, the local copies pruned after confirmation, and nothing
// missing or doubled across kill -9 of the collector while it uploads.
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "collector/export/export_file.h"
#include "collector/delivery/delivery_test_support.h"
#include "collector/export_test_support.h"
#include "gtest/gtest.h"
#include "objectstore/s3_client.h"
#include "orgtrail/common/time_util.h"
#include "testutil/ingest_client.h"
#include "testutil/orgtrailctl_runner.h"
#include "testutil/pki_fixture.h"
#include "testutil/s3_server.h"
#include "testutil/temp_dir.h"
#include "testutil/wait_for.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
using testutil::WaitFor;

constexpr char kAccount[] = "123837392027";
constexpr char kOrgPrefix[] = "org/audit";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Event i: kind 0 = an EC2 management event, 1 = an S3 management event (CreateBucket),
// 2 = an S3 data event (PutObject on an object).
std::string EventJson(int i) {
  testutil::SyntheticEvent e;
  e.event_id = "ev-" + std::to_string(i);
  e.account_id = kAccount;
  e.event_time_us = NowMicros() - 60ll * 1000000 + i;
  e.read_only = false;
  const int kind = i % 3;
  if (kind == 0) return testutil::SyntheticEventJson(e);
  e.event_source = "s3.amazonaws.com";
  e.event_name = kind == 1 ? "CreateBucket" : "PutObject";
  std::string json = testutil::SyntheticEventJson(e);
  if (kind == 2) {
    auto replace = [&](const std::string& from, const std::string& to) {
      const size_t at = json.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      if (at != std::string::npos) json.replace(at, from.size(), to);
    };
    replace("\"eventCategory\":\"Management\"", "\"eventCategory\":\"Data\"");
    replace("\"managementEvent\":true", "\"managementEvent\":false");
    replace("\"type\":\"AWS::EC2::Instance\"", "\"type\":\"AWS::S3::Object\"");
  }
  return json;
}

class TrailDeliveryTest : public testutil::S3ServerTest {
 protected:
  void SetUp() override {
    testutil::S3ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pki_ = std::make_unique<testutil::TestPki>(dir_.MakeSubdir("pki"));
    ASSERT_TRUE(pki_->ok());
    client_ = deliverytest::NewS3Client(server());
    ASSERT_NE(client_, nullptr);
    org_bucket_ = testutil::UniqueBucketName("org-trail");
    data_bucket_ = testutil::UniqueBucketName("data-trail");
    ASSERT_TRUE(client_->CreateBucket(org_bucket_).ok());
    ASSERT_TRUE(client_->CreateBucket(data_bucket_).ok());
    deliverytest::UseCredentialsFile(server().credentials_file());
  }

  // No archive bucket: only the trails deliver to the object store.
  std::unique_ptr<testutil::CollectorProcess> StartCollector() {
    testutil::CollectorProcessOptions o;
    o.data_dir = dir_.Join("data");
    o.log_dir = dir_.Join("logs");
    fs::create_directories(o.log_dir);
    o.tls = pki_->Collector();
    o.extra_args = {"--export-interval", "300ms", "--digest-interval", "2s", "--export-org-id", "o-trails00001",
                    "--export-s3-endpoint", server().endpoint()};
    o.name = "collector-" + std::to_string(starts_++);
    auto c = testutil::CollectorProcess::Start(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  testutil::CtlResult Ctl(testutil::CollectorProcess* collector, std::vector<std::string> args) {
    return testutil::RunOrgtrailctl(std::move(args), collector->target(), pki_->Admin("root"), dir_.Join("logs"),
                                    "ctl-" + std::to_string(ctl_runs_++));
  }

  // Creates both trails and waits until the collector opened their deliveries.
  void CreateTrails(testutil::CollectorProcess* collector) {
    auto org = Ctl(collector, {"create-trail", "--name", "org-trail", "--s3-bucket-name", org_bucket_, "--s3-key-prefix",
                               kOrgPrefix, "--is-organization-trail", "--is-multi-region-trail",
                               "--enable-log-file-validation"});
    ASSERT_EQ(org.exit_code, 0) << org.err;
    auto data = Ctl(collector, {"create-trail", "--name", "data-trail", "--s3-bucket-name", data_bucket_,
                                "--is-organization-trail", "--is-multi-region-trail", "--enable-log-file-validation"});
    ASSERT_EQ(data.exit_code, 0) << data.err;
    auto selectors = Ctl(collector, {"put-event-selectors", "--trail-name", "data-trail", "--advanced-event-selectors",
        R"([{"Name":"S3 objects","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]}]},)"
        R"({"Name":"S3 management","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","Equals":["s3.amazonaws.com"]}]}])"});
    ASSERT_EQ(selectors.exit_code, 0) << selectors.err;
    for (const char* trail : {"org-trail", "data-trail"}) {
      ASSERT_EQ(Ctl(collector, {"start-logging", "--name", trail}).exit_code, 0);
    }
    ASSERT_TRUE(WaitFor([&] {
      const std::string log = collector->process()->ReadLog();
      return log.find("\"msg\":\"trail delivery open\",\"trail\":\"org-trail\"") != std::string::npos &&
             log.find("\"msg\":\"trail delivery open\",\"trail\":\"data-trail\"") != std::string::npos;
    }, std::chrono::seconds(60), std::chrono::milliseconds(100))) << collector->process()->ReadLog();
  }

  Status Send(testutil::CollectorProcess* collector, int from, int count) {
    auto client = testutil::IngestClient::Connect(collector->target(), pki_->Agent(kAccount, "us-east-1"),
                                                  testutil::AgentSpiffeId("example.org", kAccount, "us-east-1", "a1"),
                                                  1, std::chrono::seconds(60));
    if (!client.ok()) return client.status();
    auto hello = (*client)->Hello();
    if (!hello.ok()) return hello.status();
    for (int i = from; i < from + count; i += 30) {
      std::vector<std::string> chunk;
      for (int j = i; j < std::min(from + count, i + 30); ++j) chunk.push_back(EventJson(j));
      auto ack = (*client)->SendEvents(chunk);
      if (!ack.ok()) return ack.status();
    }
    return absl::OkStatus();
  }

  // eventID ("ev-*" only) -> number of log objects of the bucket holding it.
  std::map<std::string, int> EventIds(const std::string& bucket, const std::string& prefix) {
    std::map<std::string, int> ids;
    auto listed = client_->ListAllObjects(bucket, prefix);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return ids;
    for (const auto& o : *listed) {
      if (o.key.find("/CloudTrail/") == std::string::npos || !EndsWith(o.key, ".json.gz")) continue;
      auto object = client_->GetObject(bucket, o.key);
      EXPECT_TRUE(object.ok()) << object.status();
      if (!object.ok()) continue;
      auto doc = GzipDecompress(object->body);
      EXPECT_TRUE(doc.ok()) << o.key;
      if (!doc.ok()) continue;
      for (const auto& r : exporttest::SplitRecords(*doc)) {
        const std::string id = exporttest::TopLevelString(r, "eventID");
        if (id.rfind("ev-", 0) == 0) ids[id]++;
      }
    }
    return ids;
  }

  bool HasDigest(const std::string& bucket) {
    auto listed = client_->ListAllObjects(bucket, "");
    if (!listed.ok()) return false;
    for (const auto& o : *listed) {
      if (o.key.find("/" + std::string(kAccount) + "/CloudTrail-Digest/") != std::string::npos) return true;
    }
    return false;
  }

  size_t ObjectCount() {
    size_t n = 0;
    for (const std::string& bucket : {org_bucket_, data_bucket_}) {
      auto listed = client_->ListAllObjects(bucket, "");
      n += listed.ok() ? listed->size() : 0;
    }
    return n;
  }

  // Log and digest files left in a trail's local folder.
  size_t LocalLogAndDigestFiles(const std::string& trail) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_.Join("data/trails/" + trail), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().string().find("/CloudTrail") != std::string::npos) ++n;
    }
    return n;
  }

  // What each trail should hold of events [0, n): org-trail every management event (kinds 0, 1),
  // data-trail the S3 events (kinds 1, 2); each exactly once.
  static std::map<std::string, int> Expected(int n, bool org) {
    std::map<std::string, int> ids;
    for (int i = 0; i < n; ++i) {
      if ((org && i % 3 != 2) || (!org && i % 3 != 0)) ids["ev-" + std::to_string(i)] = 1;
    }
    return ids;
  }

  exporttest::ValidateRun Validate(const std::string& url, const std::string& trail) {
    return exporttest::RunValidate(url, kAccount, {"--s3-endpoint", server().endpoint()}, dir_.Join("logs"),
                                   "validate-" + trail, trail);
  }

  testutil::TempDir dir_{"trail-delivery-e2e"};
  std::unique_ptr<testutil::TestPki> pki_;
  std::unique_ptr<objectstore::S3Client> client_;
  std::string org_bucket_, data_bucket_;
  int starts_ = 0;
  int ctl_runs_ = 0;
};

TEST_F(TrailDeliveryTest, EachTrailDeliversItsSelectionToItsOwnBucket) {
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  CreateTrails(collector.get());
  ASSERT_TRUE(Send(collector.get(), 0, 300).ok()) << collector->process()->ReadLog();
  std::map<std::string, int> org, data;
  ASSERT_TRUE(WaitFor([&] {
    org = EventIds(org_bucket_, std::string(kOrgPrefix) + "/AWSLogs/");
    data = EventIds(data_bucket_, "AWSLogs/");
    return org.size() >= Expected(300, true).size() && data.size() >= Expected(300, false).size() &&
           HasDigest(org_bucket_) && HasDigest(data_bucket_);
  }, std::chrono::seconds(120), std::chrono::milliseconds(300))) << org.size() << " " << data.size() << "\n"
                                                                  << collector->process()->ReadLog();
  EXPECT_EQ(org, Expected(300, true));
  EXPECT_EQ(data, Expected(300, false));
  // Delivered and confirmed: the local copies are gone (no --keep-local).
  ASSERT_TRUE(WaitFor([&] { return LocalLogAndDigestFiles("org-trail") == 0 && LocalLogAndDigestFiles("data-trail") == 0; },
                      std::chrono::seconds(60), std::chrono::milliseconds(200)));
  EXPECT_GT(collector->MetricValue("orgtrail_trail_objects_uploaded_total{trail=\"org-trail\"}"), 0);
  EXPECT_GT(collector->MetricValue("orgtrail_trail_objects_uploaded_total{trail=\"data-trail\"}"), 0);

  // Real delivery times in each trail's status.
  for (const char* trail : {"org-trail", "data-trail"}) {
    testutil::CtlResult status;
    ASSERT_TRUE(WaitFor([&] {
      status = Ctl(collector.get(), {"get-trail-status", "--name", trail});
      return status.out.find("\"LatestDeliveryTime\": \"") != std::string::npos &&
             status.out.find("\"LatestDigestDeliveryTime\": \"") != std::string::npos;
    }, std::chrono::seconds(60), std::chrono::milliseconds(300))) << trail << status.out << status.err;
    EXPECT_NE(status.out.find("\"LatestDeliveryError\": null"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("\"IsLogging\": true"), std::string::npos) << status.out;
  }

  // Both buckets validate on s3:// (digests name each trail's bucket, prefix and trail).
  collector->process()->Stop();
  const auto org_valid = Validate("s3://" + org_bucket_ + "/" + kOrgPrefix, "org-trail");
  EXPECT_EQ(org_valid.exit_code, 0) << org_valid.out << org_valid.err;
  EXPECT_NE(org_valid.out.find("digest files valid"), std::string::npos) << org_valid.out;
  EXPECT_EQ(org_valid.out.find("INVALID"), std::string::npos) << org_valid.out;
  const auto data_valid = Validate("s3://" + data_bucket_, "data-trail");
  EXPECT_EQ(data_valid.exit_code, 0) << data_valid.out << data_valid.err;
  EXPECT_NE(data_valid.out.find("digest files valid"), std::string::npos) << data_valid.out;
}

// DuckDB over a trail's bucket (deploy/analytics/orgtrail-duckdb.mjs --export-root s3://...): the
// delivery is mirrored with orgtrailctl fetch-archive, incrementally, and answers with exactly the
// trail's events.
TEST_F(TrailDeliveryTest, DuckDbAnswersOverATrailsBucket) {
  const std::string source = ORGTRAIL_SOURCE_DIR;
  if (!fs::exists(source + "/deploy/analytics/node_modules/@duckdb/node-api")) {
    GTEST_SKIP() << "DuckDB is not installed: run scripts/bootstrap.sh (npm ci --prefix deploy/analytics)";
  }
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  CreateTrails(collector.get());
  ASSERT_TRUE(Send(collector.get(), 0, 90).ok()) << collector->process()->ReadLog();
  ASSERT_TRUE(WaitFor([&] { return EventIds(data_bucket_, "AWSLogs/").size() >= Expected(90, false).size(); },
                      std::chrono::seconds(120), std::chrono::milliseconds(300)));
  collector->process()->Stop();
  auto duckdb = [&](const std::string& sql, const std::string& name) {
    return exporttest::RunTool("/usr/bin/node",
                               {source + "/deploy/analytics/orgtrail-duckdb.mjs", "--export-root", "s3://" + data_bucket_,
                                "--s3-endpoint", server().endpoint(), "--cache", dir_.Join("duckdb-cache"),
                                "--orgtrailctl", exporttest::OrgtrailctlBinary(), "--format", "jsonl", "--sql", sql},
                               dir_.Join("logs"), name);
  };
  const auto first = duckdb("SELECT eventid FROM cloudtrail WHERE eventid LIKE 'ev-%' ORDER BY eventid", "duckdb-1");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::map<std::string, int> answered;
  for (size_t at = 0; (at = first.out.find("\"eventid\":\"", at)) != std::string::npos;) {
    at += 11;
    answered[first.out.substr(at, first.out.find('"', at) - at)]++;
  }
  EXPECT_EQ(answered, Expected(90, false));
  EXPECT_NE(first.err.find(" 0 already present"), std::string::npos) << first.err;
  // The second run fetches nothing: everything is already in the cache.
  const auto second = duckdb("SELECT count(*) AS n FROM cloudtrail WHERE eventsource = 's3.amazonaws.com'", "duckdb-2");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("fetched 0 objects"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("{\"n\":" + std::to_string(Expected(90, false).size()) + "}"), std::string::npos)
      << second.out;
}

// orgtrailctl fetch-archive: bad flags and unusable stores are usage errors (exit 2) naming the
// problem; object keys that would leave the target folder are never written.
TEST_F(TrailDeliveryTest, FetchArchiveRefusesBadInputAndHostileKeys) {
  fs::create_directories(dir_.Join("logs"));
  auto ctl = [&](std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), "fetch-archive");
    return exporttest::RunTool(exporttest::OrgtrailctlBinary(), args, dir_.Join("logs"), name);
  };
  const std::string to = dir_.Join("fetched");
  const std::string endpoint = server().endpoint();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"--to", to}, "--from is required"},
      {{"--from", "s3://" + data_bucket_}, "--to is required"},
      {{"--from", "s3://", "--to", to}, "expected s3://bucket[/prefix]"},
      {{"--from", "http://x/y", "--to", to}, "expected s3://bucket[/prefix]"},
      {{"--from", "s3://" + data_bucket_, "--to", to, "--jobs", "0"}, "--jobs"},
      {{"--from", "s3://" + data_bucket_, "--to", to, "--jobs", "65"}, "--jobs"},
      {{"--from", "s3://" + data_bucket_, "--to", to, "--jobs", "many"}, "jobs"},
      {{"--from", "s3://no-such-bucket-here", "--to", to, "--s3-endpoint", endpoint}, "cannot list"},
      {{"--from", "s3://" + data_bucket_, "--to", to, "--s3-endpoint", "http://127.0.0.1:1"}, "cannot list"},
      {{"--from", "s3://" + data_bucket_ + "/" + std::string(5000, 'p'), "--to", to, "--s3-endpoint", endpoint}, ""},
  };
  int n = 0;
  for (const auto& c : cases) {
    const auto r = ctl(c.args, "fetch-bad-" + std::to_string(n++));
    if (c.error.empty()) {  // a long prefix is just an empty listing
      EXPECT_EQ(r.exit_code, 0) << r.err;
      continue;
    }
    EXPECT_EQ(r.exit_code, 2) << c.error << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
  }
  // Hostile keys in the bucket: only the well-formed log object is written, inside the folder.
  ASSERT_TRUE(client_->PutObject(data_bucket_, "AWSLogs/o-x/111111111111/CloudTrail/us-east-1/2026/12/06/ok.json.gz", "ok").ok());
  ASSERT_TRUE(client_->PutObject(data_bucket_, "AWSLogs/../../escape/CloudTrail/x.json.gz", "bad").ok());
  ASSERT_TRUE(client_->PutObject(data_bucket_, "AWSLogs/o-x//CloudTrail/empty-segment.json.gz", "bad").ok());
  ASSERT_TRUE(client_->PutObject(data_bucket_, "AWSLogs/o-x/111111111111/CloudTrail-Digest/d.json.gz", "digest").ok());
  const auto r = ctl({"--from", "s3://" + data_bucket_, "--to", to, "--s3-endpoint", endpoint}, "fetch-hostile");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> written;
  for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
    if (e.is_regular_file() && e.path().string().find("escape") != std::string::npos) written.push_back(e.path());
  }
  EXPECT_TRUE(written.empty()) << written[0];
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), to).generic_string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"AWSLogs/o-x/111111111111/CloudTrail/us-east-1/2026/12/06/ok.json.gz"});
}

TEST_F(TrailDeliveryTest, KillNineWhileUploadingLeavesBothBucketsCompleteWithoutDoubles) {
  int sent = 0;
  for (int kill = 0; kill < 3; ++kill) {
    auto collector = StartCollector();
    ASSERT_NE(collector, nullptr);
    if (kill == 0) CreateTrails(collector.get());
    if (HasFatalFailure()) return;
    const size_t before = ObjectCount();
    ASSERT_TRUE(Send(collector.get(), sent, 240).ok()) << collector->process()->ReadLog();
    sent += 240;
    // kill -9 as soon as this run's uploads have begun (a condition, not a timer).
    ASSERT_TRUE(WaitFor([&] { return ObjectCount() > before; }, std::chrono::seconds(120), std::chrono::milliseconds(5)))
        << collector->process()->ReadLog();
    collector->process()->Kill(SIGKILL);
    collector->process()->Wait(std::chrono::seconds(30));
  }
  auto collector = StartCollector();
  ASSERT_NE(collector, nullptr);
  std::map<std::string, int> org, data;
  ASSERT_TRUE(WaitFor([&] {
    org = EventIds(org_bucket_, std::string(kOrgPrefix) + "/AWSLogs/");
    data = EventIds(data_bucket_, "AWSLogs/");
    return org.size() >= Expected(sent, true).size() && data.size() >= Expected(sent, false).size();
  }, std::chrono::seconds(180), std::chrono::milliseconds(300))) << org.size() << " " << data.size() << "\n"
                                                                  << collector->process()->ReadLog();
  EXPECT_EQ(org, Expected(sent, true));
  EXPECT_EQ(data, Expected(sent, false));
}

}  // namespace
}  // namespace orgtrail::collector
