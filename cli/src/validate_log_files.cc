// validate-logs: the log files (see validator.h). ValidateLog checks one log
// file a valid digest lists: present in the export, one complete gzip member,
// SHA-256 of its uncompressed content equal to the digest's hashValue.
// CheckUnlistedLogs is the orgtrail extension: log files in the validated
// partition folder, delivered strictly inside the validated digest range,
// that no valid digest lists are reported "INVALID: not listed in any digest".
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"
#include "validator.h"

namespace orgtrail::cli::validate_logs {

void Validator::ValidateLog(const DigestData::Log& log) {
  const std::string where = "Log file\t" + S3(log.bucket, log.object) + "\t";
  listed_logs_.insert(log.object);
  std::unique_ptr<ObjectStream> object;
  if (log.bucket != o_.bucket || !IsSafeKey(log.object) || (object = o_.source->Open(log.object)) == nullptr) {
    invalid_logs_++;
    Report(where + "INVALID: not found", true);
    return;
  }
  auto t0 = std::chrono::steady_clock::now();
  Sha256Hasher hasher;
  uint64_t bytes = 0;
  GunzipResult gz = GunzipStream(object->file, SIZE_MAX, [&](std::string_view chunk) {
    hasher.Update(chunk);
    bytes += chunk.size();
  });
  object.reset();
  const std::string computed = HexEncode(hasher.Finish());
  rehash_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rehashed_bytes_ += bytes;
  if (gz == GunzipResult::kTrailingData) {
    invalid_logs_++;
    Report(where + "INVALID: unexpected data after end of compressed stream", true);
  } else if (gz != GunzipResult::kOk) {
    invalid_logs_++;
    Report(where + "INVALID: invalid format", true);
  } else if (computed != log.hash) {
    invalid_logs_++;
    Report(where + "INVALID: hash value doesn't match", true);
  } else {
    valid_logs_++;
    Report(where + "valid", false);
  }
}

// orgtrail extension: files in the partition's log folder, delivered strictly
// inside the validated range, that no valid digest lists.
void Validator::CheckUnlistedLogs() {
  if (!valid_min_start_ || !valid_max_end_) return;
  std::string folder = o_.prefix.empty() ? "" : o_.prefix + "/";
  folder += "AWSLogs/";
  if (!o_.org_id.empty()) folder += o_.org_id + "/";
  folder += o_.account_id + "/CloudTrail/" + o_.source_region;
  auto listed = o_.source->List(folder);
  if (!listed.ok()) {
    std::fprintf(stderr, "validate-logs: cannot list %s: %s\n", folder.c_str(), std::string(listed.status().message()).c_str());
    return;
  }
  const std::string lo = FormatCompactMinute(*valid_min_start_);
  const std::string hi = FormatCompactMinute(*valid_max_end_);
  const std::string name_prefix = o_.account_id + "_CloudTrail_" + o_.source_region + "_";
  std::vector<std::string> unlisted;
  for (const std::string& key : *listed) {
    const std::string name = key.substr(key.rfind('/') + 1);
    // <acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz
    if (name.rfind(name_prefix, 0) != 0 || name.size() != name_prefix.size() + 14 + 1 + 16 + 8) continue;
    if (name.compare(name.size() - 8, 8, ".json.gz") != 0) continue;
    const std::string minute = name.substr(name_prefix.size(), 14);
    if (minute <= lo || minute >= hi) continue;
    if (!listed_logs_.count(key)) unlisted.push_back(key);
  }
  std::sort(unlisted.begin(), unlisted.end());
  for (const auto& key : unlisted) {
    invalid_logs_++;
    Report("Log file\t" + S3(o_.bucket, key) + "\tINVALID: not listed in any digest", true);
  }
}

}  // namespace orgtrail::cli::validate_logs
