// DigestPublisher and DigestKeyRing on a real store and real RSA keys:
// signatures verify over CloudTrail's string to sign, chains link, empty
// hours get digests, key rotation keeps old digests verifiable, late log
// files get backfill digests, and a crash at every step of a digest round is
// recovered without breaking the chain (checked with the real orgtrailctl).
#include "collector/integrity/digest_publisher.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>

#include "collector/export_test_support.h"
#include "collector/integrity/digest_format.h"
#include "collector/integrity/digest_key_ring.h"
#include "collector/export/export_file.h"
#include "collector/export/export_log_exporter.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

using exporttest::CommitRecords;
using exporttest::ReadFileOrDie;
using exporttest::SyntheticRecord;

constexpr int64_t kMin = 60ll * 1000000;
constexpr int64_t kBase = 1767225600ll * 1000000;  // 2026-01-01T00:00:00Z
constexpr char kAccount[] = "111122223333";
constexpr char kRegion[] = "eu-west-1";
constexpr char kArn[] = "arn:aws:cloudtrail:us-east-1:999988887777:trail/org-trail";

struct Harness {
  explicit Harness(const std::string& dir) : dir(dir) {
    store = exporttest::OpenStore(dir + "/db");
    auto k = DigestKeyRing::Open(dir + "/keys", kBase);
    EXPECT_TRUE(k.ok()) << k.status();
    keys = std::move(*k);
    LogExporterOptions lo;
    lo.export_root = dir + "/export";
    lo.org_id = "o-a1b2c3d4e5";
    exporter = std::make_unique<LogExporter>(store.get(), lo);
    publisher = std::make_unique<DigestPublisher>(store.get(), keys.get(), PublisherOptions());
    EXPECT_TRUE(publisher->WriteExportManifest().ok());
    EXPECT_TRUE(publisher->WritePublicKeysFile().ok());
  }
  DigestPublisherOptions PublisherOptions(std::function<void(std::string_view)> hook = nullptr) {
    DigestPublisherOptions po;
    po.export_root = dir + "/export";
    po.org_id = "o-a1b2c3d4e5";
    po.bucket = "bucket";
    po.trail_name = "org-trail";
    po.home_region = "us-east-1";
    po.interval_us = 60 * kMin;
    po.checkpoint_provider = [] { return std::string("example.org/orgtrail\n7\nAAAA\n\n— x y\n"); };
    po.step_hook = std::move(hook);
    return po;
  }
  std::string ExportAt(int64_t at) {
    CommitRecords(store.get(), kAccount, kRegion, seq++,
                  {SyntheticRecord("ev-" + std::to_string(id++), "2025-12-31T23:00:00Z", kAccount, kRegion)});
    auto r = exporter->ExportOnce(at);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && !r->files.empty() ? r->files[0].key : "";
  }
  int Validate(std::string* out, std::string* err, const char* end = "2026-01-01T06:00:00Z") {
    testutil::SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = {"validate-logs", "--export-root", dir + "/export", "--trail-arn", kArn, "--start-time",
              "2026-01-01T00:00:00Z", "--end-time", end, "--account-id", kAccount, "--region", kRegion, "--verbose"};
    o.log_dir = dir;
    o.name = "validate-" + std::to_string(runs++);
    auto p = testutil::Subprocess::Start(o);
    EXPECT_TRUE(p.ok());
    if (!p.ok()) return -1;
    EXPECT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
    *out = (*p)->ReadStdout();
    *err = (*p)->ReadStderr();
    return (*p)->ExitCode();
  }
  std::string dir;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<DigestKeyRing> keys;
  std::unique_ptr<LogExporter> exporter;
  std::unique_ptr<DigestPublisher> publisher;
  uint64_t seq = 1;
  int id = 0;
  int runs = 0;
};

TEST(DigestKeyRingTest, KeysArePrivateStableAndFingerprintedLikeCloudTrail) {
  testutil::TempDir dir("digest-keys");
  std::string fp;
  {
    auto ring = DigestKeyRing::Open(dir.Join("keys"), kBase);
    ASSERT_TRUE(ring.ok()) << ring.status();
    fp = (*ring)->CurrentFingerprint();
    auto list = (*ring)->ListPublicKeys();
    ASSERT_EQ(list.size(), 1u);
    // MD5 of the PKCS#1 DER, computed independently.
    unsigned char md[16];
    unsigned int len = 0;
    EVP_Digest(list[0].der_pkcs1.data(), list[0].der_pkcs1.size(), md, &len, EVP_md5(), nullptr);
    EXPECT_EQ(fp, HexEncode(std::string(reinterpret_cast<char*>(md), len)));
    EXPECT_EQ(list[0].der_pkcs1.size(), 270u);  // RSA-2048 RSAPublicKey, as CloudTrail's samples
    EXPECT_FALSE(list[0].validity_end_us.has_value());
  }
  int key_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.Join("keys"))) {
    struct stat st;
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
    ++key_files;
  }
  EXPECT_EQ(key_files, 1);
  auto again = DigestKeyRing::Open(dir.Join("keys"), kBase + 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->CurrentFingerprint(), fp);
  // Rotation: a new current key, the old one keeps a closed window.
  EXPECT_FALSE((*again)->Rotate(kBase).ok());
  ASSERT_TRUE((*again)->Rotate(kBase + 10 * kMin).ok());
  EXPECT_NE((*again)->CurrentFingerprint(), fp);
  auto list = (*again)->ListPublicKeys();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].fingerprint, fp);
  EXPECT_EQ(list[0].validity_end_us, kBase + 10 * kMin);
  EXPECT_EQ((*again)->ListPublicKeys(kBase + 20 * kMin, kBase + 30 * kMin).size(), 1u);
  EXPECT_NE((*again)->PublicKeysJson().find("\"Fingerprint\":\"" + fp + "\""), std::string::npos);
}

TEST(DigestKeyRingTest, CorruptKeyFileIsDataLoss) {
  testutil::TempDir dir("digest-keys-bad");
  ASSERT_TRUE(WriteExportFileDurably(dir.Join("keys"), "key-5.pem", "not a key", 0600).ok());
  EXPECT_EQ(DigestKeyRing::Open(dir.Join("keys"), kBase).status().code(), absl::StatusCode::kDataLoss);
}

TEST(DigestPublisherTest, SignsChainsAndCoversEmptyHours) {
  testutil::TempDir dir("digest-chain");
  Harness h(dir.path());
  std::string l0 = h.ExportAt(kBase + 5 * kMin);
  // Not due before an interval has passed since the first delivery.
  auto none = h.publisher->PublishDue(kBase + 30 * kMin);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto d0 = h.publisher->PublishDue(kBase + 66 * kMin);
  ASSERT_TRUE(d0.ok() && d0->size() == 1u);
  EXPECT_EQ((*d0)[0].log_file_count, 1u);
  auto d1 = h.publisher->PublishDue(kBase + 130 * kMin);  // empty hour
  ASSERT_TRUE(d1.ok() && d1->size() == 1u);
  EXPECT_EQ((*d1)[0].log_file_count, 0u);
  EXPECT_EQ((*d1)[0].start_time_us, (*d0)[0].end_time_us);

  // Verify d1's signature in process: string to sign with the previous signature.
  const std::string root = dir.Join("export") + "/";
  auto json1 = GzipDecompress(ReadFileOrDie(root + (*d1)[0].key));
  ASSERT_TRUE(json1.ok());
  std::string meta0 = ReadFileOrDie(root + DigestMetadataKey((*d0)[0].key));
  std::string meta1 = ReadFileOrDie(root + DigestMetadataKey((*d1)[0].key));
  std::smatch m0, m1;
  std::regex sig(R"re("signature":"([0-9a-f]+)")re");
  ASSERT_TRUE(std::regex_search(meta0, m0, sig));
  ASSERT_TRUE(std::regex_search(meta1, m1, sig));
  EXPECT_NE(json1->find("\"previousDigestSignature\":\"" + m0[1].str() + "\""), std::string::npos);
  auto json0 = GzipDecompress(ReadFileOrDie(root + (*d0)[0].key));
  EXPECT_NE(json1->find("\"previousDigestHashValue\":\"" + HexEncode(Sha256(*json0)) + "\""), std::string::npos);
  EXPECT_NE(json1->find("\"orgtrailCheckpoint\":\"example.org/orgtrail\\n7\\n"), std::string::npos) << *json1;
  const std::string to_sign = DigestStringToSign("2026-01-01T02:10:00Z", "bucket", (*d1)[0].key,
                                                 HexEncode(Sha256(*json1)), m0[1].str());
  auto verifier = Verifier::FromPublicKeyDer(h.keys->ListPublicKeys()[0].der_pkcs1);
  ASSERT_TRUE(verifier.ok());
  auto raw_sig = HexDecode(m1[1].str());
  ASSERT_TRUE(raw_sig.ok());
  EXPECT_TRUE((*verifier)->Verify(to_sign, *raw_sig, "SHA256withRSA").ok());
  EXPECT_FALSE((*verifier)->Verify(to_sign + "x", *raw_sig, "SHA256withRSA").ok());

  std::string out, err;
  EXPECT_EQ(h.Validate(&out, &err), 0) << out << err;
  EXPECT_NE(out.find("2/2 digest files valid"), std::string::npos) << out;
  EXPECT_NE(out.find("1/1 log files valid"), std::string::npos) << out;
}

TEST(DigestPublisherTest, KeyRotationKeepsOldDigestsVerifiable) {
  testutil::TempDir dir("digest-rotation");
  Harness h(dir.path());
  h.ExportAt(kBase + 5 * kMin);
  ASSERT_TRUE(h.publisher->PublishDue(kBase + 66 * kMin).ok());
  const std::string old_fp = h.keys->CurrentFingerprint();
  ASSERT_TRUE(h.keys->Rotate(kBase + 90 * kMin).ok());
  ASSERT_TRUE(h.publisher->WritePublicKeysFile().ok());
  h.ExportAt(kBase + 100 * kMin);
  auto d = h.publisher->PublishDue(kBase + 130 * kMin);
  ASSERT_TRUE(d.ok() && d->size() == 1u);
  auto json = GzipDecompress(ReadFileOrDie(dir.Join("export/") + (*d)[0].key));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->find(old_fp), std::string::npos);
  EXPECT_NE(json->find(h.keys->CurrentFingerprint()), std::string::npos);
  std::string out, err;
  EXPECT_EQ(h.Validate(&out, &err), 0) << out << err;
  EXPECT_NE(out.find("2/2 digest files valid"), std::string::npos) << out;
  EXPECT_NE(out.find("2/2 log files valid"), std::string::npos) << out;
}

TEST(DigestPublisherTest, LateLogFilesGetABackfillDigest) {
  testutil::TempDir dir("digest-backfill");
  Harness h(dir.path());
  h.ExportAt(kBase + 5 * kMin);
  ASSERT_TRUE(h.publisher->PublishDue(kBase + 66 * kMin).ok());
  // A log file delivered (by its recorded delivery time) inside the window
  // the last digest already closed: late.
  std::string late = h.ExportAt(kBase + 30 * kMin);
  h.ExportAt(kBase + 90 * kMin);
  auto d = h.publisher->PublishDue(kBase + 130 * kMin);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_TRUE((*d)[0].backfill);
  EXPECT_EQ((*d)[0].log_file_count, 1u);
  EXPECT_NE((*d)[0].key.find("_backfill.json.gz"), std::string::npos);
  EXPECT_FALSE((*d)[1].backfill);
  EXPECT_EQ((*d)[1].log_file_count, 1u);
  std::string meta = ReadFileOrDie(dir.Join("export/") + DigestMetadataKey((*d)[0].key));
  EXPECT_TRUE(std::regex_search(meta, std::regex(R"("backfill-generation-timestamp":"2026-01-01T02:10:00\.000Z")"))) << meta;
  std::string out, err;
  EXPECT_EQ(h.Validate(&out, &err), 0) << out << err;
  EXPECT_NE(out.find("(backfill) Digest file\ts3://bucket/" + (*d)[0].key + "\tvalid"), std::string::npos) << out;
  EXPECT_NE(out.find("1/1 backfill digest files valid"), std::string::npos) << out;
  EXPECT_NE(out.find("3/3 log files valid"), std::string::npos) << out;
}

TEST(DigestPublisherTest, CrashAtEveryStepKeepsTheChain) {
  for (const char* step : {"digest-intent", "sidecar", "digest", "digest-before-commit", "digest-committed"}) {
    SCOPED_TRACE(step);
    testutil::TempDir dir("digest-crash");
    {
      Harness h(dir.path());
      h.ExportAt(kBase + 5 * kMin);
      ASSERT_TRUE(h.publisher->PublishDue(kBase + 66 * kMin).ok());
      h.ExportAt(kBase + 80 * kMin);
    }
    pid_t pid = fork();
    if (pid == 0) {
      Harness h(dir.path());
      DigestPublisher crashing(h.store.get(), h.keys.get(), h.PublisherOptions([&](std::string_view s) {
        if (s == step) _exit(42);
      }));
      auto r = crashing.PublishDue(kBase + 130 * kMin);
      _exit(r.ok() ? 0 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42);
    Harness h(dir.path());
    auto r = h.publisher->PublishDue(kBase + 140 * kMin);
    ASSERT_TRUE(r.ok()) << r.status();
    auto r2 = h.publisher->PublishDue(kBase + 200 * kMin);
    ASSERT_TRUE(r2.ok()) << r2.status();
    auto pending = h.store->ScanMetadata(kPendingLogFileRoot);
    ASSERT_TRUE(pending.ok());
    EXPECT_TRUE(pending->empty());
    std::string out, err;
    EXPECT_EQ(h.Validate(&out, &err), 0) << out << err;
    EXPECT_NE(out.find("2/2 log files valid"), std::string::npos) << out;
    EXPECT_EQ(err.find("INVALID"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace orgtrail::collector
