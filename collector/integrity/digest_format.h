// CloudTrail digest files: their JSON content in CloudTrail's exact field set
// and key order, their object keys, the sidecar that stands for S3 object
// metadata, and the four-line string to sign (cloudtrail-format.md §3).
//
//   AWSLogs/<o-org>/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
//     <account>_CloudTrail-Digest_<region>_<trail>_<homeRegion>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz
//   sidecar: <digest key>.metadata.json =
//     {"signature":"<hex>","signature-algorithm":"SHA256withRSA"
//      [,"backfill-generation-timestamp":"2025-05-20T00:00:00.000Z"]}
//
// Pure functions, thread-safe.
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_FORMAT_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orgtrail::collector {

struct DigestLogFile {
  std::string s3_bucket;
  std::string s3_object;
  std::string hash_hex;  // SHA-256 of the uncompressed log file
  int64_t newest_event_time_us = 0;
  int64_t oldest_event_time_us = 0;
};

struct DigestLink {
  std::string s3_bucket;
  std::string s3_object;
  std::string hash_hex;       // SHA-256 of the previous digest's uncompressed bytes
  std::string signature_hex;  // the previous digest's signature
};

struct DigestContent {
  std::string account_id;
  int64_t start_time_us = 0;
  int64_t end_time_us = 0;
  std::string s3_bucket;
  std::string s3_object;
  std::string public_key_fingerprint;
  std::optional<DigestLink> previous;  // nullopt in a starting digest
  std::vector<DigestLogFile> log_files;
  // orgtrail extension (ignored by CloudTrail tools): latest Merkle checkpoint.
  std::string checkpoint_text;  // C2SP signed note; empty = field omitted
};

inline constexpr std::string_view kDigestSignatureAlgorithm = "SHA256withRSA";
inline constexpr std::string_view kDigestHashAlgorithm = "SHA-256";

// Uncompressed JSON bytes, one line, CloudTrail's key order, extension last.
// newest/oldestEventTime are computed over log_files (null if none).
std::string SerializeDigest(const DigestContent& digest);

std::string DigestKey(std::string_view org_id, std::string_view account_id,
                      std::string_view region, std::string_view trail_name,
                      std::string_view home_region, int64_t end_time_us, bool backfill);
std::string DigestMetadataKey(std::string_view digest_key);  // sidecar key

// Lines: end time, bucket/object, hex SHA-256 of uncompressed digest bytes,
// previous signature hex or "null"; joined by '\n', no trailing newline.
std::string DigestStringToSign(std::string_view end_time, std::string_view bucket,
                               std::string_view object, std::string_view digest_sha256_hex,
                               std::string_view previous_signature_hex_or_null);

std::string DigestMetadataJson(std::string_view signature_hex,
                               std::string_view backfill_generation_timestamp = "");

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_DIGEST_FORMAT_H_
