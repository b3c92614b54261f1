// validate-logs: one digest file (Validator::LoadAndValidate, see
// validator.h): found at its key in the export, gunzipped, parsed, its S3
// object metadata read from the sidecar <digest>.metadata.json
// (collector/EXPORT.md), its location checked against its own
// digestS3Bucket/digestS3Object, its public key chosen by fingerprint, its
// SHA256withRSA signature over the aws-cli string to sign verified, and only
// then its time range, previous digest and listed log files read.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"
#include "validator.h"

namespace orgtrail::cli::validate_logs {

constexpr size_t kMaxDigestBytes = 64u << 20;  // uncompressed digest limit

std::optional<DigestData> Validator::LoadAndValidate(const std::string& bucket, const std::string& key,
                                                     bool backfill, std::string* error, bool* missing) {
  const std::string where = "Digest file\t" + S3(bucket, key) + "\tINVALID: ";
  *missing = false;
  std::unique_ptr<ObjectStream> object;
  if (bucket != o_.bucket || !IsSafeKey(key) || (object = o_.source->Open(key)) == nullptr) {
    *missing = true;
    *error = where + "not found";
    return std::nullopt;
  }
  // GET + gunzip + JSON parse.
  std::string inflated;
  GunzipResult gz = GunzipStream(object->file, kMaxDigestBytes, [&](std::string_view chunk) { inflated.append(chunk); });
  object.reset();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (gz != GunzipResult::kOk || parser.parse(inflated).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  // Object metadata (S3's x-amz-meta-*, or the folder's sidecar).
  std::string signature_hex, signature_algorithm, backfill_ts;
  {
    std::map<std::string, std::string> meta;
    if (!o_.source->SignatureMetadata(key, &meta) || meta.count("signature") == 0 ||
        meta.count("signature-algorithm") == 0) {
      *error = where + "signature verification failed";
      return std::nullopt;
    }
    signature_hex = meta["signature"];
    signature_algorithm = meta["signature-algorithm"];
    if (meta.count("backfill-generation-timestamp")) backfill_ts = meta["backfill-generation-timestamp"];
  }
  // Required keys.
  for (const char* required : {"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
                               "previousDigestSignature", "digestEndTime", "digestStartTime"}) {
    simdjson::dom::element e;
    if (obj[required].get(e) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
  }
  std::string_view d_bucket, d_object, fingerprint, end_time, start_time;
  if (obj["digestS3Bucket"].get_string().get(d_bucket) != simdjson::SUCCESS ||
      obj["digestS3Object"].get_string().get(d_object) != simdjson::SUCCESS ||
      obj["digestPublicKeyFingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
      obj["digestEndTime"].get_string().get(end_time) != simdjson::SUCCESS ||
      obj["digestStartTime"].get_string().get(start_time) != simdjson::SUCCESS) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  if (d_bucket != bucket || d_object != key) {
    *error = where + "has been moved from its original location";
    return std::nullopt;
  }
  // Key by fingerprint.
  std::map<std::string, PublicKey> candidates;
  if (backfill) {
    auto ts = ParseRfc3339Micros(backfill_ts);
    if (!ts.ok()) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    candidates = KeysOverlapping(all_keys_, *ts - kHour, *ts + kHour);
  } else {
    candidates = keys_;
  }
  auto key_it = candidates.find(std::string(fingerprint));
  if (key_it == candidates.end()) {
    *error = where + "public key not found in region " + o_.home_region + " for fingerprint " +
             std::string(fingerprint);
    return std::nullopt;
  }
  auto verifier = Verifier::FromPublicKeyDer(key_it->second.der);
  if (!verifier.ok()) {
    *error = where + "Unable to load PKCS #1 key with fingerprint " + std::string(fingerprint);
    return std::nullopt;
  }
  // String to sign.
  std::string previous_signature = "null";
  simdjson::dom::element prev_sig_el = obj["previousDigestSignature"];
  if (!prev_sig_el.is_null()) {
    std::string_view ps;
    if (prev_sig_el.get_string().get(ps) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    previous_signature = std::string(ps);
  }
  const std::string to_sign = std::string(end_time) + "\n" + std::string(d_bucket) + "/" +
                              std::string(d_object) + "\n" + HexEncode(Sha256(inflated)) + "\n" +
                              previous_signature;
  auto signature = HexDecode(signature_hex);
  if (!signature.ok() || signature_algorithm != "SHA256withRSA" ||
      !(*verifier)->Verify(to_sign, *signature, "SHA256withRSA").ok()) {
    *error = where + "signature verification failed";
    return std::nullopt;
  }
  // A verified digest: read the rest.
  DigestData d;
  d.key = key;
  d.bucket = bucket;
  auto start_us = ParseRfc3339Micros(start_time);
  auto end_us = ParseRfc3339Micros(end_time);
  if (!start_us.ok() || !end_us.ok()) {
    *error = where + "invalid format";
    return std::nullopt;
  }
  d.start_us = *start_us;
  d.end_us = *end_us;
  std::string_view pb, po;
  if (obj["previousDigestS3Bucket"].get_string().get(pb) == simdjson::SUCCESS) {
    d.previous_bucket = std::string(pb);
    if (obj["previousDigestS3Object"].get_string().get(po) != simdjson::SUCCESS) {
      *error = where + "invalid format";
      return std::nullopt;
    }
    d.previous_object = std::string(po);
  }
  simdjson::dom::array logs;
  if (obj["logFiles"].get_array().get(logs) == simdjson::SUCCESS) {
    for (simdjson::dom::element log : logs) {
      std::string_view lb, lo, lh;
      if (log["s3Bucket"].get_string().get(lb) != simdjson::SUCCESS ||
          log["s3Object"].get_string().get(lo) != simdjson::SUCCESS ||
          log["hashValue"].get_string().get(lh) != simdjson::SUCCESS) {
        *error = where + "invalid format";
        return std::nullopt;
      }
      d.logs.push_back({std::string(lb), std::string(lo), std::string(lh)});
    }
  }
  return d;
}

}  // namespace orgtrail::cli::validate_logs
