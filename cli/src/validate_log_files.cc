// validate-logs: the log files (see validator.h). ValidateLogs checks the log
// files a valid digest lists, in parallel (--jobs): present in the export, one
// complete gzip member, SHA-256 of its uncompressed content equal to the
// digest's hashValue; the results are reported in the digest's order.
// CheckUnlistedLogs is the orgtrail extension: log files in the validated
// partition folder, delivered strictly inside the validated digest range,
// that no valid digest lists are reported "INVALID: not listed in any digest".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/time_util.h"
#include "validate_files.h"
#include "validator.h"

namespace orgtrail::cli::validate_logs {

namespace {

// What re-hashing one listed log file found (computed on a worker, reported in order).
struct LogCheck {
  bool found = false;
  GunzipResult gz = GunzipResult::kInvalid;
  std::string hash_hex;
  uint64_t bytes = 0;
};

LogCheck CheckLog(const ExportSource& source, const std::string& bucket, const DigestData::Log& log) {
  LogCheck check;
  std::unique_ptr<ObjectStream> object;
  if (log.bucket != bucket || !IsSafeKey(log.object) || (object = source.Open(log.object)) == nullptr) return check;
  check.found = true;
  Sha256Hasher hasher;
  check.gz = GunzipStream(object->file, SIZE_MAX, [&](std::string_view chunk) {
    hasher.Update(chunk);
    check.bytes += chunk.size();
  });
  check.hash_hex = HexEncode(hasher.Finish());
  return check;
}

}  // namespace

void Validator::ValidateLogs(const std::vector<DigestData::Log>& logs) {
  // Re-hash on up to o_.jobs workers (each file is read, gunzipped and hashed on one), then
  // report in the digest's order, so the output does not depend on the parallelism.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<LogCheck> checks(logs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < logs.size(); i = next++) checks[i] = CheckLog(*o_.source, o_.bucket, logs[i]);
  };
  const size_t workers = std::min<size_t>(std::max(1, o_.jobs), logs.size());
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  rehash_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < logs.size(); ++i) {
    const DigestData::Log& log = logs[i];
    const LogCheck& check = checks[i];
    const std::string where = "Log file\t" + S3(log.bucket, log.object) + "\t";
    listed_logs_.insert(log.object);
    rehashed_bytes_ += check.bytes;
    if (!check.found) {
      invalid_logs_++;
      Report(where + "INVALID: not found", true);
    } else if (check.gz == GunzipResult::kTrailingData) {
      invalid_logs_++;
      Report(where + "INVALID: unexpected data after end of compressed stream", true);
    } else if (check.gz != GunzipResult::kOk) {
      invalid_logs_++;
      Report(where + "INVALID: invalid format", true);
    } else if (check.hash_hex != log.hash) {
      invalid_logs_++;
      Report(where + "INVALID: hash value doesn't match", true);
    } else {
      valid_logs_++;
      Report(where + "valid", false);
    }
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
