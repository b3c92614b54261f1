// orgtrailctl validate-logs against hand-crafted hostile exports whose
// digests carry VALID signatures (the attacker holds no key, but the parser
// must still never trust a field): path traversal in previousDigestS3Object
// and logFiles[].s3Object, wrong JSON types, deep nesting, a gzip bomb, a
// self-referencing chain. Every case ends with a clear result and exit 1,
// never a crash or a hang.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

constexpr char kAcct[] = "111122223333";
constexpr char kFolder[] = "AWSLogs/o-hostile0001/111122223333/CloudTrail-Digest/us-east-1/2026/01/01/";

std::string Gzip(const std::string& data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string DigestName(const std::string& hhmmss) {
  return std::string(kFolder) + kAcct + "_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20260101T" + hhmmss + "Z.json.gz";
}

class ValidateHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CaOptions o;
    o.trust_domain = "example.org";
    o.key_type = KeyType::kRsa2048;
    auto ca = CreateCa(o);
    ASSERT_TRUE(ca.ok()) << ca.status();
    auto signer = Signer::FromPrivateKeyPem(ca->key_pem);
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    fingerprint_ = HexEncode(Sha256(signer_->PublicKeyDer())).substr(0, 32);
    root_ = dir_.MakeSubdir("export");
    Put("AWSLogs/o-hostile0001/public-keys.json",
        "{\"PublicKeyList\":[{\"Value\":\"" + Base64Encode(signer_->PublicKeyDer()) +
            "\",\"ValidityStartTime\":\"2025-01-01T00:00:00Z\",\"ValidityEndTime\":null,\"Fingerprint\":\"" +
            fingerprint_ + "\"}]}");
    Put("orgtrail-export.json", "{\"bucket\":\"b\",\"orgId\":\"o-hostile0001\"}");
  }
  void Put(const std::string& key, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomically(root_ + "/" + key, data, 0644).ok() ||
                (std::filesystem::create_directories(std::filesystem::path(root_ + "/" + key).parent_path()),
                 WriteFileAtomically(root_ + "/" + key, data, 0644).ok()));
  }
  // A correctly signed digest whose JSON is `json` (end time / key as given).
  void SignedDigest(const std::string& key, const std::string& end_time, const std::string& json,
                    const std::string& prev_sig = "null") {
    const std::string to_sign = end_time + "\nb/" + key + "\n" + HexEncode(Sha256(json)) + "\n" + prev_sig;
    auto sig = signer_->Sign(to_sign);
    ASSERT_TRUE(sig.ok());
    Put(key + ".metadata.json", "{\"signature\":\"" + HexEncode(*sig) + "\",\"signature-algorithm\":\"SHA256withRSA\"}");
    Put(key, Gzip(json));
  }
  std::string Json(const std::string& key, const std::string& end, const std::string& prev_object,
                   const std::string& log_files) {
    return "{\"awsAccountId\":\"111122223333\",\"digestStartTime\":\"2026-01-01T00:00:00Z\",\"digestEndTime\":\"" + end +
           "\",\"digestS3Bucket\":\"b\",\"digestS3Object\":\"" + key + "\",\"digestPublicKeyFingerprint\":\"" +
           fingerprint_ + "\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"previousDigestS3Bucket\":" +
           (prev_object.empty() ? "null" : "\"b\"") + ",\"previousDigestS3Object\":" +
           (prev_object.empty() ? "null" : "\"" + prev_object + "\"") +
           ",\"previousDigestSignature\":null,\"logFiles\":" + log_files + "}";
  }
  struct Run {
    int code = -1;
    std::string out, err;
  };
  Run Validate(const std::vector<std::string>& more = {}, const std::string& root = "") {
    testutil::SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = {"validate-logs", "--export-root", root.empty() ? root_ : root, "--trail-arn",
              "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail",
              "--start-time", "2026-01-01T00:00:00Z", "--end-time", "2026-01-01T06:00:00Z", "--verbose"};
    o.args.insert(o.args.end(), more.begin(), more.end());
    o.log_dir = dir_.path();
    o.name = "validate-" + std::to_string(runs_++);
    auto p = testutil::Subprocess::Start(o);
    EXPECT_TRUE(p.ok());
    Run r;
    if (!p.ok()) return r;
    EXPECT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value()) << "validate-logs hung";
    r.code = (*p)->ExitCode();
    r.out = (*p)->ReadStdout();
    r.err = (*p)->ReadStderr();
    return r;
  }

  testutil::TempDir dir_{"validate-hostile"};
  std::string root_;
  std::unique_ptr<Signer> signer_;
  std::string fingerprint_;
  int runs_ = 0;
};

TEST_F(ValidateHostileTest, BadJobsAndUnreachableBucketsAreUsageErrorsBeforeAnyResult) {
  for (const char* jobs : {"-1", "257", "many"}) {
    Run r = Validate({"--jobs", jobs});
    EXPECT_EQ(r.code, 2) << jobs << r.err;
    EXPECT_NE(r.err.find("--jobs"), std::string::npos) << r.err;
  }
  Run no_bucket = Validate({}, "s3://");
  EXPECT_EQ(no_bucket.code, 2) << no_bucket.err;
  EXPECT_NE(no_bucket.err.find("expected s3://bucket[/prefix]"), std::string::npos) << no_bucket.err;
  // Nothing listens on port 1: a clear error naming the bucket, and no result line.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  Run unreachable = Validate({"--s3-endpoint", "http://127.0.0.1:1"}, "s3://some-bucket/trails");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(unreachable.code, 2) << unreachable.err;
  EXPECT_NE(unreachable.err.find("cannot list s3://some-bucket/trails"), std::string::npos) << unreachable.err;
  EXPECT_EQ(unreachable.out, "");
  // One worker or many: the same report.
  Run one = Validate({"--jobs", "1"});
  Run four = Validate({"--jobs", "4"});
  EXPECT_EQ(one.code, four.code);
  EXPECT_EQ(one.out, four.out);
  EXPECT_EQ(one.err, four.err);
}

TEST_F(ValidateHostileTest, PathTraversalIsNeverFollowed) {
  const std::string key = DigestName("010000");
  SignedDigest(key, "2026-01-01T01:00:00Z",
               Json(key, "2026-01-01T01:00:00Z", "../../../../../../etc/passwd",
                    "[{\"s3Bucket\":\"b\",\"s3Object\":\"/etc/passwd\",\"hashValue\":\"00\",\"hashAlgorithm\":\"SHA-256\"},"
                    "{\"s3Bucket\":\"b\",\"s3Object\":\"../../../../etc/hostname\",\"hashValue\":\"00\",\"hashAlgorithm\":\"SHA-256\"}]"));
  Run r = Validate();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("Digest file\ts3://b/" + key + "\tvalid"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("Log file\ts3://b//etc/passwd\tINVALID: not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Log file\ts3://b/../../../../etc/hostname\tINVALID: not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Digest file\ts3://b/../../../../../../etc/passwd\tINVALID: not found"), std::string::npos) << r.err;
}

TEST_F(ValidateHostileTest, WrongTypesAreInvalidFormat) {
  const std::string k1 = DigestName("010000");
  SignedDigest(k1, "2026-01-01T01:00:00Z", Json(k1, "2026-01-01T01:00:00Z", "", "[{\"s3Bucket\":7,\"s3Object\":[],\"hashValue\":null}]"));
  const std::string k2 = DigestName("020000");
  std::string bad_types = Json(k2, "2026-01-01T02:00:00Z", "", "[]");
  bad_types.replace(bad_types.find("\"digestStartTime\":\"2026-01-01T00:00:00Z\""), 40, "\"digestStartTime\":12345678901234567890");
  SignedDigest(k2, "2026-01-01T02:00:00Z", bad_types);
  Run r = Validate();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Digest file\ts3://b/" + k1 + "\tINVALID: invalid format"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Digest file\ts3://b/" + k2 + "\tINVALID: invalid format"), std::string::npos) << r.err;
}

TEST_F(ValidateHostileTest, DeepNestingAndGzipBomb) {
  const std::string k1 = DigestName("010000");
  std::string deep = Json(k1, "2026-01-01T01:00:00Z", "", std::string(100000, '[') + std::string(100000, ']'));
  SignedDigest(k1, "2026-01-01T01:00:00Z", deep);
  const std::string k2 = DigestName("020000");
  Put(k2 + ".metadata.json", "{\"signature\":\"00\",\"signature-algorithm\":\"SHA256withRSA\"}");
  Put(k2, Gzip(std::string(66u << 20, ' ')));  // 66 MiB of spaces (limit 64 MiB), ~64 KB compressed
  Run r = Validate();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Digest file\ts3://b/" + k1 + "\tINVALID: invalid format"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Digest file\ts3://b/" + k2 + "\tINVALID: invalid format"), std::string::npos) << r.err;
}

TEST_F(ValidateHostileTest, SelfReferencingChainTerminates) {
  const std::string key = DigestName("010000");
  SignedDigest(key, "2026-01-01T01:00:00Z", Json(key, "2026-01-01T01:00:00Z", key, "[]"));
  Run r = Validate();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("INVALID: digest chain loops"), std::string::npos) << r.err;
}

TEST_F(ValidateHostileTest, GarbageKeyListAndSidecar) {
  Put("AWSLogs/o-hostile0001/public-keys.json", "{\"PublicKeyList\":[{\"Value\":\"!!!\",\"Fingerprint\":3}]}");
  const std::string key = DigestName("010000");
  SignedDigest(key, "2026-01-01T01:00:00Z", Json(key, "2026-01-01T01:00:00Z", "", "[]"));
  Run none = Validate();
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("No public keys found"), std::string::npos) << none.err;
  SetUp();  // valid key list again
  SignedDigest(key, "2026-01-01T01:00:00Z", Json(key, "2026-01-01T01:00:00Z", "", "[]"));
  Put(key + ".metadata.json", "{\"signature\":\"not hex\",\"signature-algorithm\":\"SHA256withRSA\"}");
  Run bad_sig = Validate();
  EXPECT_EQ(bad_sig.code, 1);
  EXPECT_NE(bad_sig.err.find("INVALID: signature verification failed"), std::string::npos) << bad_sig.err;
}

}  // namespace
}  // namespace orgtrail
