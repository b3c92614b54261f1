// CloudTrail digest JSON, keys and string to sign (see digest_format.h).
#include "collector/integrity/digest_format.h"
#include "collector/export/export_strings.h"

#include <algorithm>

#include "orgtrail/common/logger.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;
using internal::Split;

void AppendString(std::string* out, std::string_view value) {
  out->push_back('"');
  AppendJsonEscaped(out, value);
  out->push_back('"');
}

void AppendField(std::string* out, std::string_view key, std::string_view value, bool first = false) {
  if (!first) out->push_back(',');
  AppendString(out, key);
  out->push_back(':');
  AppendString(out, value);
}

void AppendNullField(std::string* out, std::string_view key) {
  out->push_back(',');
  AppendString(out, key);
  out->append(":null");
}

void AppendOptionalField(std::string* out, std::string_view key, const std::string* value) {
  if (value == nullptr) {
    AppendNullField(out, key);
  } else {
    AppendField(out, key, *value);
  }
}

std::string DateFolder(int64_t micros) {
  std::string c = FormatCompactSecond(micros);
  return Cat(c.substr(0, 4), "/", c.substr(4, 2), "/", c.substr(6, 2));
}

}  // namespace

std::string SerializeDigest(const DigestContent& d) {
  std::string out = "{";
  AppendField(&out, "awsAccountId", d.account_id, true);
  AppendField(&out, "digestStartTime", FormatRfc3339Seconds(d.start_time_us));
  AppendField(&out, "digestEndTime", FormatRfc3339Seconds(d.end_time_us));
  AppendField(&out, "digestS3Bucket", d.s3_bucket);
  AppendField(&out, "digestS3Object", d.s3_object);
  AppendField(&out, "digestPublicKeyFingerprint", d.public_key_fingerprint);
  AppendField(&out, "digestSignatureAlgorithm", kDigestSignatureAlgorithm);
  if (d.log_files.empty()) {
    AppendNullField(&out, "newestEventTime");
    AppendNullField(&out, "oldestEventTime");
  } else {
    int64_t newest = d.log_files.front().newest_event_time_us;
    int64_t oldest = d.log_files.front().oldest_event_time_us;
    for (const auto& f : d.log_files) {
      newest = std::max(newest, f.newest_event_time_us);
      oldest = std::min(oldest, f.oldest_event_time_us);
    }
    AppendField(&out, "newestEventTime", FormatRfc3339Seconds(newest));
    AppendField(&out, "oldestEventTime", FormatRfc3339Seconds(oldest));
  }
  const DigestLink* prev = d.previous ? &*d.previous : nullptr;
  std::string algo(kDigestHashAlgorithm);
  AppendOptionalField(&out, "previousDigestS3Bucket", prev ? &prev->s3_bucket : nullptr);
  AppendOptionalField(&out, "previousDigestS3Object", prev ? &prev->s3_object : nullptr);
  AppendOptionalField(&out, "previousDigestHashValue", prev ? &prev->hash_hex : nullptr);
  AppendOptionalField(&out, "previousDigestHashAlgorithm", prev ? &algo : nullptr);
  AppendOptionalField(&out, "previousDigestSignature", prev ? &prev->signature_hex : nullptr);
  out.append(",\"logFiles\":[");
  for (size_t i = 0; i < d.log_files.size(); ++i) {
    const auto& f = d.log_files[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    AppendField(&out, "s3Bucket", f.s3_bucket, true);
    AppendField(&out, "s3Object", f.s3_object);
    AppendField(&out, "hashValue", f.hash_hex);
    AppendField(&out, "hashAlgorithm", kDigestHashAlgorithm);
    AppendField(&out, "newestEventTime", FormatRfc3339Seconds(f.newest_event_time_us));
    AppendField(&out, "oldestEventTime", FormatRfc3339Seconds(f.oldest_event_time_us));
    out.push_back('}');
  }
  out.push_back(']');
  if (!d.checkpoint_text.empty()) AppendField(&out, "orgtrailCheckpoint", d.checkpoint_text);
  out.push_back('}');
  return out;
}

std::string DigestKey(std::string_view org_id, std::string_view account_id,
                      std::string_view region, std::string_view trail_name,
                      std::string_view home_region, int64_t end_time_us, bool backfill) {
  return Cat("AWSLogs/", org_id, "/", account_id, "/CloudTrail-Digest/", region, "/",
                      DateFolder(end_time_us), "/", account_id, "_CloudTrail-Digest_", region, "_",
                      trail_name, "_", home_region, "_", FormatCompactSecond(end_time_us),
                      backfill ? "_backfill" : "", ".json.gz");
}

std::string DigestMetadataKey(std::string_view digest_key) {
  return Cat(digest_key, ".metadata.json");
}

std::string DigestStringToSign(std::string_view end_time, std::string_view bucket,
                               std::string_view object, std::string_view digest_sha256_hex,
                               std::string_view previous_signature_hex_or_null) {
  return Cat(end_time, "\n", bucket, "/", object, "\n", digest_sha256_hex, "\n",
                      previous_signature_hex_or_null);
}

std::string DigestMetadataJson(std::string_view signature_hex,
                               std::string_view backfill_generation_timestamp) {
  std::string out = "{";
  AppendField(&out, "signature", signature_hex, true);
  AppendField(&out, "signature-algorithm", kDigestSignatureAlgorithm);
  if (!backfill_generation_timestamp.empty()) {
    AppendField(&out, "backfill-generation-timestamp", backfill_generation_timestamp);
  }
  out.append("}\n");
  return out;
}

}  // namespace orgtrail::collector
