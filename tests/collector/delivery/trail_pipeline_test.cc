// TrailPipeline on a real RocksDB store, delivering to local folders: each trail's folder holds
// exactly the events its selectors select (an event two trails select is in both, once in each),
// from the moment the trail's delivery opened; a stopped trail takes nothing; digests exist only
// with log file validation on, name the trail's bucket, key prefix and trail name, and the
// folder validates with orgtrailctl validate-logs; a reopened pipeline continues from its cursor.
#include "collector/delivery/trail_pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "collector/export/export_file.h"
#include "collector/export_test_support.h"
#include "orgtrail/common/time_util.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
using exporttest::CommitRecords;
using exporttest::OpenStore;
using exporttest::ReadFileOrDie;
using exporttest::SplitRecords;
using exporttest::TopLevelString;

constexpr char kAccount[] = "111111111111";
constexpr char kOrg[] = "o-trailtest01";

// A management event (CreateBucket of s3, or RunInstances of ec2) or an S3 data event.
std::string Record(const std::string& id, const std::string& source, const std::string& name,
                   const std::string& category) {
  std::string r = "{\"eventVersion\":\"1.09\",\"eventTime\":\"" + FormatRfc3339Seconds(NowMicros()) +
                  "\",\"eventSource\":\"" + source + "\",\"eventName\":\"" + name +
                  "\",\"awsRegion\":\"us-east-1\",\"eventID\":\"" + id + "\",\"readOnly\":false,\"eventCategory\":\"" +
                  category + "\",\"recipientAccountId\":\"" + kAccount + "\"";
  if (category == "Data") {
    r += ",\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::data-bucket/" + id + "\"}]";
  }
  return r + "}";
}

v1::Trail ManagementTrail() {
  v1::Trail t;
  t.set_name("management-trail");
  t.set_home_region("us-east-1");
  t.set_is_multi_region_trail(true);
  t.set_include_global_service_events(true);
  t.set_is_organization_trail(true);
  t.set_s3_bucket_name("management-bucket");
  t.set_is_logging(true);
  return t;  // no selectors: every management event
}

// S3 data events, and S3's management events: CreateBucket is selected by both trails.
v1::Trail S3Trail() {
  v1::Trail t;
  t.set_name("s3-trail");
  t.set_home_region("us-east-1");
  t.set_is_multi_region_trail(true);
  t.set_s3_bucket_name("s3-bucket");
  t.set_s3_key_prefix("team-s3/audit");
  t.set_log_file_validation_enabled(true);
  t.set_is_logging(true);
  auto* data = t.add_advanced_event_selectors();
  data->set_name("S3 objects");
  auto* f1 = data->add_field_selectors();
  f1->set_field("eventCategory");
  f1->add_equals("Data");
  auto* f2 = data->add_field_selectors();
  f2->set_field("resources.type");
  f2->add_equals("AWS::S3::Object");
  auto* management = t.add_advanced_event_selectors();
  management->set_name("S3 management");
  auto* m1 = management->add_field_selectors();
  m1->set_field("eventCategory");
  m1->add_equals("Management");
  auto* m2 = management->add_field_selectors();
  m2->set_field("eventSource");
  m2->add_equals("s3.amazonaws.com");
  return t;
}

class TrailPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.Join("db"));
    ASSERT_NE(store_, nullptr);
    auto keys = DigestKeyRing::Open(dir_.Join("digest-keys"), NowMicros() - 3600ll * 1000000);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
  }

  std::unique_ptr<TrailPipeline> Open(const v1::Trail& trail,
                                      std::function<bool(std::string_view)> delivers_account = nullptr) {
    TrailPipelineOptions o;
    o.trail = trail;
    o.delivers_account = std::move(delivers_account);
    o.global_home_region = "us-east-1";
    o.folder = dir_.Join("trails/" + trail.name());
    o.journal_path = dir_.Join("trails/" + trail.name() + ".journal");
    o.org_id = kOrg;
    o.home_region = "us-east-1";
    o.digest_interval_us = 1000000;
    o.exported_through = [this](uint64_t cursor) { reported_cursor_ = cursor; };
    auto p = TrailPipeline::Open(store_.get(), keys_.get(), nullptr, o);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  void Commit(const std::vector<std::string>& records) {
    CommitRecords(store_.get(), kAccount, "us-east-1", ++sequence_, records);
  }

  // eventID -> how many times it is in the trail folder's log files.
  std::map<std::string, int> Delivered(const std::string& trail) {
    std::map<std::string, int> ids;
    const std::string root = dir_.Join("trails/" + trail);
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const std::string path = e.path().string();
      if (!e.is_regular_file() || path.find("/CloudTrail/") == std::string::npos) continue;
      auto doc = GzipDecompress(ReadFileOrDie(path));
      EXPECT_TRUE(doc.ok()) << path;
      if (!doc.ok()) continue;
      for (const auto& r : SplitRecords(*doc)) ids[TopLevelString(r, "eventID")]++;
    }
    return ids;
  }

  std::vector<std::string> Digests(const std::string& trail) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.Join("trails/" + trail))) {
      const std::string path = e.path().string();
      if (e.is_regular_file() && path.find("/CloudTrail-Digest/") != std::string::npos &&
          path.size() > 8 && path.substr(path.size() - 8) == ".json.gz") {
        out.push_back(path);
      }
    }
    return out;
  }

  TrailRoundResult Round(TrailPipeline* p, int64_t now_us) {
    std::string log_error, digest_error;
    TrailRoundResult r = p->ExportAndDigest(now_us, &log_error, &digest_error);
    EXPECT_EQ(log_error, "");
    EXPECT_EQ(digest_error, "");
    return r;
  }

  testutil::TempDir dir_{"trail-pipeline"};
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<DigestKeyRing> keys_;
  uint64_t sequence_ = 0;
  uint64_t reported_cursor_ = 0;
};

TEST_F(TrailPipelineTest, EachTrailDeliversWhatItsSelectorsSelectOnceEach) {
  Commit({Record("before-open", "ec2.amazonaws.com", "RunInstances", "Management")});
  auto management = Open(ManagementTrail());
  auto s3 = Open(S3Trail());
  ASSERT_NE(management, nullptr);
  ASSERT_NE(s3, nullptr);
  Commit({Record("run-1", "ec2.amazonaws.com", "RunInstances", "Management"),
          Record("create-bucket-1", "s3.amazonaws.com", "CreateBucket", "Management"),
          Record("get-object-1", "s3.amazonaws.com", "GetObject", "Data")});
  const int64_t t0 = NowMicros();
  EXPECT_EQ(Round(management.get(), t0).events, 2u);
  EXPECT_EQ(Round(s3.get(), t0).events, 2u);
  EXPECT_EQ(reported_cursor_, store_->last_commit_index());
  // A second round of new events, and rounds with nothing new write nothing more.
  Commit({Record("put-object-2", "s3.amazonaws.com", "PutObject", "Data"),
          Record("create-bucket-2", "s3.amazonaws.com", "CreateBucket", "Management")});
  Round(management.get(), t0 + 60000000);
  Round(s3.get(), t0 + 60000000);
  EXPECT_EQ(Round(management.get(), t0 + 120000000).files, 0u);
  EXPECT_EQ(Round(s3.get(), t0 + 120000000).files, 0u);

  EXPECT_EQ(Delivered("management-trail"),
            (std::map<std::string, int>{{"run-1", 1}, {"create-bucket-1", 1}, {"create-bucket-2", 1}}));
  EXPECT_EQ(Delivered("s3-trail"), (std::map<std::string, int>{{"create-bucket-1", 1}, {"get-object-1", 1},
                                                              {"put-object-2", 1}, {"create-bucket-2", 1}}));
  // The two trails never share a log file name (same commit ranges, different unique strings).
  std::set<std::string> names;
  for (const char* trail : {"management-trail", "s3-trail"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir_.Join(std::string("trails/") + trail))) {
      if (e.path().string().find("/CloudTrail/") != std::string::npos && e.is_regular_file()) {
        EXPECT_TRUE(names.insert(e.path().filename().string()).second) << e.path();
      }
    }
  }
}

// Sharded collectors write into one bucket; an account and region has one writer, the shard
// serving the account. Events this collector stored for another shard's account are not delivered.
TEST_F(TrailPipelineTest, AShardDeliversOnlyTheAccountsItServes) {
  const std::string other_account = "999999999999";
  auto trail = Open(S3Trail(), [](std::string_view account) { return account == kAccount; });  // validation on
  ASSERT_NE(trail, nullptr);
  Commit({Record("ours-1", "s3.amazonaws.com", "CreateBucket", "Management")});
  CommitRecords(store_.get(), other_account, "us-east-1", ++sequence_,
                {Record("theirs-1", "s3.amazonaws.com", "CreateBucket", "Management")});
  Commit({Record("ours-2", "s3.amazonaws.com", "GetObject", "Data")});
  const int64_t t0 = NowMicros();
  EXPECT_EQ(Round(trail.get(), t0).events, 2u);
  EXPECT_GE(Round(trail.get(), t0 + 5000000).digests, 1u);
  EXPECT_EQ(Delivered("s3-trail"), (std::map<std::string, int>{{"ours-1", 1}, {"ours-2", 1}}));
  // The cursor still passes the other account's event (retention is not held for it).
  EXPECT_EQ(reported_cursor_, store_->last_commit_index());
  ASSERT_FALSE(Digests("s3-trail").empty());
  for (const auto& e : fs::recursive_directory_iterator(dir_.Join("trails/s3-trail"))) {
    EXPECT_EQ(e.path().string().find("/" + other_account + "/"), std::string::npos) << e.path();
  }
}

TEST_F(TrailPipelineTest, DigestsOnlyWithValidationNamingTheTrailsBucketAndPrefix) {
  auto management = Open(ManagementTrail());  // validation off
  auto s3 = Open(S3Trail());                  // validation on
  Commit({Record("create-bucket-1", "s3.amazonaws.com", "CreateBucket", "Management")});
  const int64_t t0 = NowMicros();
  Round(management.get(), t0);
  Round(s3.get(), t0);
  EXPECT_GE(Round(s3.get(), t0 + 5000000).digests, 1u);
  EXPECT_EQ(Round(management.get(), t0 + 5000000).digests, 0u);
  EXPECT_TRUE(Digests("management-trail").empty());
  auto pending = store_->ScanMetadata(TrailPipeline::MetadataNamespace("management-trail") + "digest/pending/");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "pending digest entries pile up for a trail without validation";

  const std::vector<std::string> digests = Digests("s3-trail");
  ASSERT_EQ(digests.size(), 1u);
  auto json = GzipDecompress(ReadFileOrDie(digests[0]));
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"digestS3Bucket\":\"s3-bucket\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"digestS3Object\":\"team-s3/audit/AWSLogs/" + std::string(kOrg) + "/" + kAccount +
                       "/CloudTrail-Digest/us-east-1/"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"s3Object\":\"team-s3/audit/AWSLogs/"), std::string::npos) << *json;
  EXPECT_NE(digests[0].find("_CloudTrail-Digest_us-east-1_s3-trail_us-east-1_"), std::string::npos) << digests[0];
  // The archive's keys are untouched: each trail keeps its state under its own namespace.
  auto archive_cursor = store_->GetMetadata(kExportCursorKey);
  ASSERT_TRUE(archive_cursor.ok());
  EXPECT_FALSE(archive_cursor->has_value());

  // The folder validates (orgtrailctl validate-logs reads the manifest's bucket and prefix).
  fs::create_directories(dir_.Join("logs"));
  const auto valid = exporttest::RunValidate(dir_.Join("trails/s3-trail"), kAccount, {}, dir_.Join("logs"), "validate",
                                             "s3-trail");
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE(valid.out.find("1/1 digest files valid"), std::string::npos) << valid.out;
  EXPECT_NE(valid.out.find("1/1 log files valid"), std::string::npos) << valid.out;
}

TEST_F(TrailPipelineTest, AStoppedTrailTakesNothingAndAReopenedOneContinues) {
  v1::Trail trail = ManagementTrail();
  auto pipeline = Open(trail);
  Commit({Record("run-1", "ec2.amazonaws.com", "RunInstances", "Management")});
  const int64_t t0 = NowMicros();
  Round(pipeline.get(), t0);
  trail.set_is_logging(false);
  pipeline->UpdateTrail(trail);
  Commit({Record("while-stopped", "ec2.amazonaws.com", "RunInstances", "Management")});
  Round(pipeline.get(), t0 + 1000000);
  trail.set_is_logging(true);
  pipeline->UpdateTrail(trail);
  pipeline.reset();
  Commit({Record("after-reopen", "ec2.amazonaws.com", "RunInstances", "Management")});
  pipeline = Open(trail);  // continues from its cursor, not from the newest commit
  Round(pipeline.get(), t0 + 2000000);
  EXPECT_EQ(Delivered("management-trail"), (std::map<std::string, int>{{"run-1", 1}, {"after-reopen", 1}}));
  auto cursor = pipeline->Cursor();
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, store_->last_commit_index());
}

}  // namespace
}  // namespace orgtrail::collector
