// Digest files as `orgtrailctl validate-logs` reads them (cli/src/validator.h,
// validate_digest.cc, validate_log_files.cc). The collector's
// collector/integrity/digest_format.h only writes digests (no parser), so the
// digest parser under test is the CLI's, run through the real
// Validator::Run over a scratch export folder made at start-up: an RSA key in
// AWSLogs/<org>/public-keys.json, one log file, and the digest of the input.
//
// Each input is the uncompressed digest JSON. It is gzipped to the digest key
// and, so that the fuzzer reaches the parsing done after the signature check,
// signed with the export's key over the aws-cli string to sign (taken from the
// input's own digestEndTime / digestS3Bucket / digestS3Object /
// previousDigestSignature when the harness can read them). An input of the
// form "<digest>\n--sidecar--\n<sidecar JSON>" uses that sidecar verbatim
// instead (the signature metadata is fuzzed too).
// The validator prints its report: run with -close_fd_mask=3 (scripts/fuzz.sh does).
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <simdjson.h>

#include "fuzz_util.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/signer.h"
#include "validator.h"

namespace {

constexpr const char* kOrg = "o-fuzz1234";
constexpr const char* kAccount = "111122223333";
constexpr const char* kRegion = "us-east-1";
constexpr const char* kTrail = "fuzz-trail";
constexpr const char* kBucket = "fuzz-bucket";
constexpr const char* kFingerprint = "5f2a9c0d7b1e4f3a8c6d2e1f0a9b8c7d";
constexpr const char* kDigestKey =
    "AWSLogs/o-fuzz1234/111122223333/CloudTrail-Digest/us-east-1/2026/01/01/"
    "111122223333_CloudTrail-Digest_us-east-1_fuzz-trail_us-east-1_20260101T010000Z.json.gz";
constexpr const char* kLogKey =
    "AWSLogs/o-fuzz1234/111122223333/CloudTrail/us-east-1/2026/01/01/"
    "111122223333_CloudTrail_us-east-1_20260101T0005Z_fuzz0001.json.gz";
constexpr const char* kLogBody =
    R"({"Records":[{"eventVersion":"1.08","eventTime":"2026-01-01T00:04:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","eventID":"0b0c8e26-1a0e-4d5c-9a4b-2f4b1f6c1d11","recipientAccountId":"111122223333"}]})";

std::string Gzip(std::string_view in) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, 1, Z_DEFLATED, MAX_WBITS | 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Export {
  std::string root;
  std::unique_ptr<orgtrail::Signer> signer;
};

Export* MakeExport() {
  auto* e = new Export();
  e->root = orgtrail::fuzz::ScratchDir() + "/export";
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(e->root + "/" + kDigestKey).parent_path());
  fs::create_directories(fs::path(e->root + "/" + kLogKey).parent_path());
  orgtrail::CaOptions key_options;
  key_options.trust_domain = "example.org";
  key_options.key_type = orgtrail::KeyType::kRsa2048;
  auto kc = orgtrail::CreateCa(key_options);
  if (!kc.ok()) std::abort();
  auto signer = orgtrail::Signer::FromPrivateKeyPem(kc->key_pem);
  if (!signer.ok()) std::abort();
  e->signer = std::move(*signer);
  orgtrail::fuzz::WriteFileOrDie(
      e->root + "/AWSLogs/" + kOrg + "/public-keys.json",
      std::string(R"({"PublicKeyList":[{"Value":")") + orgtrail::Base64Encode(e->signer->PublicKeyDer()) +
          R"(","ValidityStartTime":"2025-01-01T00:00:00Z","ValidityEndTime":"2027-01-01T00:00:00Z","Fingerprint":")" +
          kFingerprint + R"("}]})");
  orgtrail::fuzz::WriteFileOrDie(e->root + "/" + kLogKey, Gzip(kLogBody));
  // The validator prints its report; keep libFuzzer's own output readable.
  std::fflush(stdout);
  if (!std::freopen("/dev/null", "w", stdout)) std::abort();
  return e;
}

// The aws-cli string to sign, from the input's own fields; empty if unreadable.
std::string StringToSign(std::string_view digest) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(digest.data(), digest.size()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return "";
  }
  std::string_view end, bucket, object, prev = "null";
  if (obj["digestEndTime"].get_string().get(end) != simdjson::SUCCESS ||
      obj["digestS3Bucket"].get_string().get(bucket) != simdjson::SUCCESS ||
      obj["digestS3Object"].get_string().get(object) != simdjson::SUCCESS) {
    return "";
  }
  simdjson::dom::element prev_el;
  if (obj["previousDigestSignature"].get(prev_el) == simdjson::SUCCESS && !prev_el.is_null()) {
    if (prev_el.get_string().get(prev) != simdjson::SUCCESS) return "";
  }
  return std::string(end) + "\n" + std::string(bucket) + "/" + std::string(object) + "\n" +
         orgtrail::HexEncode(orgtrail::Sha256(digest)) + "\n" + std::string(prev);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Export* exp = MakeExport();
  if (size > 64 * 1024) return 0;
  const auto [digest, sidecar_given] = orgtrail::fuzz::SplitOnce(orgtrail::fuzz::AsView(data, size), "\n--sidecar--\n");
  const bool has_sidecar = digest.size() != size;
  orgtrail::fuzz::WriteFileOrDie(exp->root + "/" + kDigestKey, Gzip(digest));
  std::string sidecar;
  if (has_sidecar) {
    sidecar = std::string(sidecar_given);
  } else {
    std::string signature = "00";
    const std::string to_sign = StringToSign(digest);
    if (!to_sign.empty()) {
      auto sig = exp->signer->Sign(to_sign);
      if (sig.ok()) signature = orgtrail::HexEncode(*sig);
    }
    sidecar = R"({"signature":")" + signature + R"(","signature-algorithm":"SHA256withRSA"})";
  }
  orgtrail::fuzz::WriteFileOrDie(exp->root + "/" + kDigestKey + ".metadata.json", sidecar);

  orgtrail::cli::validate_logs::Options o;
  o.export_root = exp->root;
  o.trail_arn = std::string("arn:aws:cloudtrail:us-east-1:") + kAccount + ":trail/" + kTrail;
  o.bucket = kBucket;
  o.account_id = kAccount;
  o.org_id = kOrg;
  o.source_region = kRegion;
  o.home_region = kRegion;
  o.trail_name = kTrail;
  o.start_us = 1767225600000000;  // 2026-01-01T00:00:00Z
  o.end_us = 1767229200000000;    // 2026-01-01T01:00:00Z
  o.check_unlisted = true;
  orgtrail::cli::validate_logs::Validator validator(o);
  const int rc = validator.Run();
  ORGTRAIL_FUZZ_CHECK(rc == 0 || rc == 1);
  return 0;
}
