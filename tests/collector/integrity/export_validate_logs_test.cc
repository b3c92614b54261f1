// The tamper matrix: a real export (RocksDB store -> LogExporter ->
// DigestPublisher with a real RSA-2048 key) validated by the real
// `orgtrailctl validate-logs` binary, pristine and after each kind of
// tampering; each must be reported with aws-cli's words and exit status 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <regex>

#include "collector/export_test_support.h"
#include "collector/integrity/digest_format.h"
#include "collector/integrity/digest_key_ring.h"
#include "collector/integrity/digest_publisher.h"
#include "collector/export/export_file.h"
#include "collector/export/export_log_exporter.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

namespace fs = std::filesystem;
using exporttest::CommitRecords;
using exporttest::ReadFileOrDie;
using exporttest::SyntheticRecord;

constexpr int64_t kMin = 60ll * 1000000;
constexpr int64_t kBase = 1767225600ll * 1000000;  // 2026-01-01T00:00:00Z
constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";
constexpr char kBucket[] = "org-audit-bucket";
constexpr char kOrg[] = "o-a1b2c3d4e5";
constexpr char kArn[] = "arn:aws:cloudtrail:us-east-1:999988887777:trail/org-trail";

void WriteFile(const std::string& path, const std::string& data) {
  ASSERT_TRUE(WriteExportFileDurably(fs::path(path).parent_path().string(),
                                     fs::path(path).filename().string(), data).ok());
}

struct Export {
  std::vector<std::string> logs;     // keys, oldest first
  std::vector<std::string> digests;  // keys, oldest first
};

// Builds the pristine export once per test binary run.
class ValidateLogsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir("validate-logs");
    export_ = new Export;
    auto store = exporttest::OpenStore(dir_->Join("db"));
    ASSERT_NE(store, nullptr);
    auto keys = DigestKeyRing::Open(dir_->Join("digest-keys"), kBase);
    ASSERT_TRUE(keys.ok()) << keys.status();
    LogExporterOptions lo;
    lo.export_root = Root();
    lo.org_id = kOrg;
    LogExporter exporter(store.get(), lo);
    DigestPublisherOptions po;
    po.export_root = Root();
    po.org_id = kOrg;
    po.bucket = kBucket;
    po.trail_name = "org-trail";
    po.home_region = "us-east-1";
    po.interval_us = 60 * kMin;
    DigestPublisher publisher(store.get(), keys->get(), po);
    ASSERT_TRUE(publisher.WritePublicKeysFile().ok());
    ASSERT_TRUE(publisher.WriteExportManifest().ok());
    int id = 0;
    uint64_t seq = 1;
    auto commit_and_export = [&](int64_t at) {
      std::vector<std::string> recs;
      for (int i = 0; i < 3; ++i) {
        recs.push_back(SyntheticRecord("ev-" + std::to_string(id++), "2025-12-31T23:59:0" + std::to_string(i) + "Z",
                                       kAccount, kRegion));
      }
      CommitRecords(store.get(), kAccount, kRegion, seq++, recs);
      auto r = exporter.ExportOnce(at);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->files.size(), 1u);
      export_->logs.push_back(r->files[0].key);
    };
    auto publish = [&](int64_t at) {
      auto d = publisher.PublishDue(at);
      ASSERT_TRUE(d.ok()) << d.status();
      ASSERT_EQ(d->size(), 1u);
      export_->digests.push_back((*d)[0].key);
    };
    commit_and_export(kBase + 5 * kMin);    // L0
    commit_and_export(kBase + 20 * kMin);   // L1
    publish(kBase + 65 * kMin);             // D0: L0, L1
    commit_and_export(kBase + 80 * kMin);   // L2
    publish(kBase + 125 * kMin);            // D1: L2
    publish(kBase + 185 * kMin);            // D2: empty hour
    commit_and_export(kBase + 190 * kMin);  // L3
    publish(kBase + 245 * kMin);            // D3: L3
  }
  static void TearDownTestSuite() {
    delete export_;
    delete dir_;
  }
  static std::string Root() { return dir_->Join("export"); }

  // A fresh copy of the pristine export to tamper with.
  std::string Copy() {
    std::string target = dir_->Join("copy-" + std::to_string(copies_++));
    fs::copy(Root(), target, fs::copy_options::recursive);
    return target;
  }

  struct Run {
    int exit_code = -1;
    std::string out, err;
  };
  // Flags in `extra` replace the defaults of the same name.
  Run Validate(const std::string& root, std::vector<std::string> extra = {}) {
    std::map<std::string, std::string> flags = {
        {"--export-root", root}, {"--trail-arn", kArn}, {"--start-time", "2026-01-01T00:00:00Z"},
        {"--end-time", "2026-01-01T04:30:00Z"}, {"--account-id", kAccount}, {"--region", kRegion}};
    std::vector<std::string> switches;
    for (size_t i = 0; i < extra.size(); ++i) {
      if (flags.count(extra[i]) && i + 1 < extra.size()) {
        flags[extra[i]] = extra[i + 1];
        ++i;
      } else {
        switches.push_back(extra[i]);
      }
    }
    std::vector<std::string> args = {"validate-logs"};
    for (const auto& [k, v] : flags) {
      args.push_back(k);
      args.push_back(v);
    }
    args.insert(args.end(), switches.begin(), switches.end());
    testutil::SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = args;
    o.log_dir = dir_->path();
    o.name = "validate-" + std::to_string(runs_++);
    auto p = testutil::Subprocess::Start(o);
    EXPECT_TRUE(p.ok()) << p.status();
    Run r;
    if (!p.ok()) return r;
    auto st = (*p)->Wait(std::chrono::seconds(60));
    EXPECT_TRUE(st.has_value()) << "validate-logs hung";
    r.exit_code = (*p)->ExitCode();
    r.out = (*p)->ReadStdout();
    r.err = (*p)->ReadStderr();
    return r;
  }
  static std::string S3(const std::string& key) { return std::string("s3://") + kBucket + "/" + key; }
  std::string Line(const std::string& kind, const std::string& key, const std::string& result) {
    return kind + " file\t" + S3(key) + "\t" + result;
  }
  void Regzip(const std::string& path, const std::function<void(std::string*)>& edit) {
    auto doc = GzipDecompress(ReadFileOrDie(path));
    ASSERT_TRUE(doc.ok());
    edit(&*doc);
    auto gz = GzipCompress(*doc);
    ASSERT_TRUE(gz.ok());
    WriteFile(path, *gz);
  }

  static testutil::TempDir* dir_;
  static Export* export_;
  static int copies_;
  static int runs_;
};
int ValidateLogsTest::copies_ = 0;
int ValidateLogsTest::runs_ = 0;
testutil::TempDir* ValidateLogsTest::dir_ = nullptr;
Export* ValidateLogsTest::export_ = nullptr;

TEST_F(ValidateLogsTest, PristineExportIsValid) {
  ASSERT_EQ(export_->digests.size(), 4u);
  Run r = Validate(Root(), {"--verbose"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(std::string("Validating log files for trail ") + kArn +
                       " between 2026-01-01T00:00:00Z and 2026-01-01T04:30:00Z"), std::string::npos) << r.out;
  for (const auto& d : export_->digests) EXPECT_NE(r.out.find(Line("Digest", d, "valid")), std::string::npos) << d;
  for (const auto& l : export_->logs) EXPECT_NE(r.out.find(Line("Log", l, "valid")), std::string::npos) << l;
  EXPECT_NE(r.out.find("Results requested for 2026-01-01T00:00:00Z to 2026-01-01T04:30:00Z"), std::string::npos);
  EXPECT_NE(r.out.find("Results found for 2026-01-01T00:05:00Z to 2026-01-01T04:05:00Z:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4/4 digest files valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4/4 log files valid"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("INVALID"), std::string::npos);
  EXPECT_NE(r.out.find("MB/s"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
  // Without --verbose, valid lines are not printed.
  Run quiet = Validate(Root());
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.out.find("\tvalid"), std::string::npos);
}

TEST_F(ValidateLogsTest, DigestKeysFollowCloudTrailNaming) {
  std::regex re(R"(AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/eu-west-1/2026/01/01/111122223333_CloudTrail-Digest_eu-west-1_org-trail_us-east-1_20260101T\d{6}Z\.json\.gz)");
  for (const auto& d : export_->digests) EXPECT_TRUE(std::regex_match(d, re)) << d;
  auto doc = GzipDecompress(ReadFileOrDie(Root() + "/" + export_->digests[0]));
  ASSERT_TRUE(doc.ok());
  // CloudTrail's key order, starting digest has null previous fields.
  std::regex order(R"(\{"awsAccountId":"111122223333","digestStartTime":"[^"]+","digestEndTime":"2026-01-01T01:05:00Z","digestS3Bucket":"org-audit-bucket","digestS3Object":"[^"]+","digestPublicKeyFingerprint":"[0-9a-f]{32}","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2025-12-31T23:59:02Z","oldestEventTime":"2025-12-31T23:59:00Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":\[\{"s3Bucket":"org-audit-bucket","s3Object":"[^"]+","hashValue":"[0-9a-f]{64}","hashAlgorithm":"SHA-256","newestEventTime":"[^"]+","oldestEventTime":"[^"]+"\},\{[^}]+\}\]\})");
  EXPECT_TRUE(std::regex_match(*doc, order)) << *doc;
  auto empty = GzipDecompress(ReadFileOrDie(Root() + "/" + export_->digests[2]));
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(empty->find("\"newestEventTime\":null,\"oldestEventTime\":null"), std::string::npos) << *empty;
  EXPECT_NE(empty->find("\"logFiles\":[]"), std::string::npos);
  EXPECT_NE(empty->find("\"previousDigestS3Object\":\"" + export_->digests[1] + "\""), std::string::npos);
  std::string sidecar = ReadFileOrDie(Root() + "/" + export_->digests[0] + ".metadata.json");
  EXPECT_TRUE(std::regex_search(sidecar, std::regex(R"(\{"signature":"[0-9a-f]{512}","signature-algorithm":"SHA256withRSA"\})"))) << sidecar;
}

TEST_F(ValidateLogsTest, LogByteChangedUncompressed) {
  std::string root = Copy();
  Regzip(root + "/" + export_->logs[1], [](std::string* d) { (*d)[d->size() / 2] ^= 0x01; });
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Log", export_->logs[1], "INVALID: hash value doesn't match")), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("3/4 log files valid, 1/4 log files INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4/4 digest files valid"), std::string::npos) << r.out;
}

TEST_F(ValidateLogsTest, LogByteChangedCompressed) {
  std::string root = Copy();
  std::string path = root + "/" + export_->logs[0];
  std::string gz = ReadFileOrDie(path);
  gz[gz.size() / 2] ^= 0x10;
  WriteFile(path, gz);
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  std::regex re(Line("Log", export_->logs[0], "INVALID: (invalid format|hash value doesn't match)"));
  EXPECT_TRUE(std::regex_search(r.err, re)) << r.err;
}

TEST_F(ValidateLogsTest, LogDeleted) {
  std::string root = Copy();
  fs::remove(root + "/" + export_->logs[2]);
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Log", export_->logs[2], "INVALID: not found")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, LogAdded) {
  std::string root = Copy();
  // A forged file in the same folder, delivery minute inside the range.
  std::string forged = export_->logs[1];
  forged.replace(forged.size() - 24, 16, "FORGEDforged0000");
  fs::copy_file(root + "/" + export_->logs[1], root + "/" + forged);
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Log", forged, "INVALID: not listed in any digest")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, DigestDeleted) {
  std::string root = Copy();
  fs::remove(root + "/" + export_->digests[1]);
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[1], "INVALID: not found")), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("3/4 digest files valid, 1/4 digest files INVALID"), std::string::npos) << r.out;
}

TEST_F(ValidateLogsTest, DigestChanged) {
  std::string root = Copy();
  Regzip(root + "/" + export_->digests[1], [](std::string* d) {
    size_t p = d->find("\"newestEventTime\":\"2025");
    ASSERT_NE(p, std::string::npos);
    (*d)[p + 20] = '4';  // 2025 -> 2024
  });
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[1], "INVALID: signature verification failed")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, DigestMoved) {
  std::string root = Copy();
  std::string moved = export_->digests[1];
  moved.replace(moved.size() - 13, 2, "04");  // one minute earlier, same folder
  fs::rename(root + "/" + export_->digests[1], root + "/" + moved);
  fs::rename(root + "/" + export_->digests[1] + ".metadata.json", root + "/" + moved + ".metadata.json");
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[1], "INVALID: not found")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(Line("Digest", moved, "INVALID: has been moved from its original location")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, DigestsReordered) {
  std::string root = Copy();
  const std::string a = root + "/" + export_->digests[1], b = root + "/" + export_->digests[2];
  for (const std::string suffix : {"", ".metadata.json"}) {
    fs::rename(a + suffix, a + suffix + ".swap");
    fs::rename(b + suffix, a + suffix);
    fs::rename(a + suffix + ".swap", b + suffix);
  }
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID: has been moved from its original location"), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, GzipTruncated) {
  std::string root = Copy();
  std::string path = root + "/" + export_->logs[3];
  std::string gz = ReadFileOrDie(path);
  WriteFile(path, gz.substr(0, gz.size() - 12));
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Log", export_->logs[3], "INVALID: invalid format")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, BytesAfterGzipStream) {
  std::string root = Copy();
  std::string path = root + "/" + export_->logs[3];
  WriteFile(path, ReadFileOrDie(path) + "appended");
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Log", export_->logs[3], "INVALID: unexpected data after end of compressed stream")),
            std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, SignatureSwapped) {
  std::string root = Copy();
  const std::string a = root + "/" + export_->digests[0] + ".metadata.json";
  const std::string b = root + "/" + export_->digests[3] + ".metadata.json";
  std::string sa = ReadFileOrDie(a), sb = ReadFileOrDie(b);
  WriteFile(a, sb);
  WriteFile(b, sa);
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[3], "INVALID: signature verification failed")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[0], "INVALID: signature verification failed")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, SignatureSidecarMissing) {
  std::string root = Copy();
  fs::remove(root + "/" + export_->digests[2] + ".metadata.json");
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[2], "INVALID: signature verification failed")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, PublicKeyMissing) {
  std::string root = Copy();
  // Replace the key list by an unrelated key: every digest names a key that is not there.
  auto other = DigestKeyRing::Open(root + "/../other-keys-" + std::to_string(copies_), kBase);
  ASSERT_TRUE(other.ok());
  WriteFile(root + "/AWSLogs/" + kOrg + "/public-keys.json", (*other)->PublicKeysJson());
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID: public key not found in region us-east-1 for fingerprint "), std::string::npos) << r.err;
  // No key file at all.
  fs::remove(root + "/AWSLogs/" + kOrg + "/public-keys.json");
  Run none = Validate(root);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("No public keys found between"), std::string::npos) << none.err;
}

TEST_F(ValidateLogsTest, DigestNotGzipOrNotJson) {
  std::string root = Copy();
  WriteFile(root + "/" + export_->digests[3], "this is not gzip");
  Regzip(root + "/" + export_->digests[2], [](std::string* d) { *d = "{\"truncated\": "; });
  Run r = Validate(root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[3], "INVALID: invalid format")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(Line("Digest", export_->digests[2], "INVALID: invalid format")), std::string::npos) << r.err;
}

TEST_F(ValidateLogsTest, OutOfRangeFindsNoDigests) {
  Run r = Validate(Root(), {"--start-time", "2027-01-01T00:00:00Z", "--end-time", "2027-01-02T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("No digests found"), std::string::npos) << r.out;
}

TEST_F(ValidateLogsTest, BadFlagsAreUsageErrors) {
  EXPECT_EQ(Validate(Root(), {"--start-time", "yesterday"}).exit_code, 2);
  EXPECT_EQ(Validate(Root(), {"--trail-arn", "not-an-arn"}).exit_code, 2);
  EXPECT_EQ(Validate(Root(), {"--account-id", "12"}).exit_code, 2);
  EXPECT_EQ(Validate(Root(), {"--start-time", "2026-01-02T00:00:00Z", "--end-time", "2026-01-01T00:00:00Z"}).exit_code, 2);
  EXPECT_EQ(Validate(dir_->Join("does-not-exist")).exit_code, 2);
  EXPECT_EQ(Validate(Root(), {"--region", "../../etc"}).exit_code, 2);
  EXPECT_EQ(Validate(Root(), {"--no-such-flag"}).exit_code, 2);
}

}  // namespace
}  // namespace orgtrail::collector
