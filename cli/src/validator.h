// validate-logs: the Validator, which runs the `aws cloudtrail validate-logs`
// algorithm (cloudtrail-format.md §3) over one export folder for one trail,
// source region and time range, printing aws-cli's result lines and summary.
// Its member functions live in one file per part of the algorithm:
//   cmd_validate.cc          Run, and the digest chain: listing the digest
//                            keys in the range and walking them from the
//                            newest back through previousDigestS3Object;
//   validate_digest.cc       one digest file: read, verify its signature,
//                            parse (LoadAndValidate);
//   validate_log_files.cc    re-hashing the log files a digest lists, and the
//                            orgtrail check for log files no digest lists;
//   validate_report.cc       the result lines and the summary on stdout/stderr.
// Contract: Run() returns the exit status (0 when every digest and log file in
// the range is valid, 1 otherwise, including when no public key covers the
// range). Options must already be checked by the caller (keys, prefix and
// names are safe path segments). A Validator is used once, by one thread. It reads the objects
// through an ExportSource (export_source.h): a folder or an S3 bucket, with the same output.
#ifndef ORGTRAIL_CLI_VALIDATOR_H_
#define ORGTRAIL_CLI_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "export_source.h"
#include "orgtrail/common/time_util.h"
#include "validate_public_keys.h"

namespace orgtrail::cli::validate_logs {

constexpr int64_t kMinute = 60ll * 1000000;
constexpr int64_t kHour = 60 * kMinute;

inline std::string DisplayDate(int64_t us) { return FormatRfc3339Seconds(us); }

struct Options {
  std::string export_root;                     // a folder; used when `source` is not set
  std::shared_ptr<const ExportSource> source;  // where the objects are (folder or S3)
  std::string trail_arn;
  std::string bucket;
  std::string prefix;
  std::string account_id;
  std::string org_id;
  std::string source_region;
  std::string home_region;
  std::string trail_name;
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool verbose = false;
  bool check_unlisted = true;
  int jobs = 1;  // log files re-hashed in parallel
};

struct DigestData {
  std::string key;
  std::string bucket;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::optional<std::string> previous_bucket;  // nullopt = JSON null / absent
  std::string previous_object;
  struct Log {
    std::string bucket, object, hash;
  };
  std::vector<Log> logs;
};

class Validator {
 public:
  explicit Validator(Options options) : o_(std::move(options)) {
    if (o_.source == nullptr) o_.source = NewFolderSource(o_.export_root);
  }
  int Run();

 private:
  // Digest chains.
  std::vector<std::string> ListDigestKeys(bool backfill) const;
  std::string DigestFolder() const;
  static std::string KeyDate(std::string_view key, bool backfill);
  void Traverse(bool backfill);
  // On failure returns the error line and sets *missing for "not found".
  std::optional<DigestData> LoadAndValidate(const std::string& bucket, const std::string& key,
                                            bool backfill, std::string* error, bool* missing);
  std::pair<std::string, std::string> NextDigest(std::vector<std::string>* keys,
                                                 const std::string& before_key, bool backfill) const;
  // Logs.
  void ValidateLogs(const std::vector<DigestData::Log>& logs);
  void CheckUnlistedLogs();
  // Output.
  void Report(const std::string& message, bool is_error);
  void Summary();
  void Ratio(int valid, int invalid, const char* name);
  std::string S3(const std::string& bucket, const std::string& key) const {
    return "s3://" + bucket + "/" + key;
  }

  Options o_;
  std::map<std::string, PublicKey> all_keys_;
  std::map<std::string, PublicKey> keys_;
  bool keys_loaded_ = false;
  std::string keys_error_;
  int valid_digests_ = 0, invalid_digests_ = 0;
  int valid_backfill_ = 0, invalid_backfill_ = 0;
  int valid_logs_ = 0, invalid_logs_ = 0;
  bool last_double_space_ = true;
  std::optional<int64_t> found_start_, found_end_;
  std::optional<int64_t> valid_min_start_, valid_max_end_;
  std::set<std::string> listed_logs_;
  uint64_t rehashed_bytes_ = 0;
  double rehash_seconds_ = 0;
};

}  // namespace orgtrail::cli::validate_logs

#endif  // ORGTRAIL_CLI_VALIDATOR_H_
