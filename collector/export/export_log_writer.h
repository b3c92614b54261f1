// Writes one CloudTrail log file for one (organization, account, region):
//   AWSLogs/<o-org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
//     <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 unique chars>.json.gz
// or, for Insights records (LogKind::kInsight), as CloudTrail delivers them:
//   AWSLogs/<o-org-id>/<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/
//     <account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<16 unique chars>.json.gz
// holding gzip of {"Records":[r1,r2,...]} where every record's bytes are
// copied unchanged. The file is placed crash-safely (export_file.h).
//
// The 16-character unique string is derived deterministically from a caller
// seed (the export loop uses the commit-index range), so rewriting the same
// range after a crash produces the same name and the same bytes: a rewrite
// replaces, never duplicates.
//
// Thread-safe pure functions. Errors: INVALID_ARGUMENT for bad partitions
// (account not 12 digits, empty region/org, no records), UNAVAILABLE for I/O.
#ifndef ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_WRITER_H_
#define ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_WRITER_H_

#include <cstdint>
#include <tuple>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct ExportPartition {
  std::string org_id;      // "o-abc123"
  std::string account_id;  // 12 digits
  std::string region;      // export region (home region for global events)

  bool operator<(const ExportPartition& o) const {
    return std::tie(org_id, account_id, region) < std::tie(o.org_id, o.account_id, o.region);
  }
  bool operator==(const ExportPartition& o) const {
    return org_id == o.org_id && account_id == o.account_id && region == o.region;
  }
};

enum class LogKind { kCloudTrail, kInsight };

struct ExportRecord {
  std::string_view raw_json;  // the stored record, byte for byte
  int64_t event_time_us = 0;
};

struct WrittenLogFile {
  std::string key;                    // relative to the export root
  Digest sha256{};                    // of the uncompressed bytes
  uint64_t uncompressed_bytes = 0;
  uint64_t compressed_bytes = 0;
  uint64_t record_count = 0;
  int64_t newest_event_time_us = 0;
  int64_t oldest_event_time_us = 0;
};

Status CheckExportPartition(const ExportPartition& partition);

// 16 characters of [A-Za-z0-9] derived from seed (SHA-256 based).
std::string UniqueStringForSeed(std::string_view seed);

std::string LogFileKey(const ExportPartition& partition, int64_t delivery_time_us,
                       std::string_view unique16, LogKind kind = LogKind::kCloudTrail);

// {"Records":[...]} with the records' bytes unchanged.
std::string BuildRecordsDocument(const std::vector<ExportRecord>& records);

StatusOr<WrittenLogFile> WriteLogFile(const std::string& export_root,
                                      const ExportPartition& partition,
                                      const std::vector<ExportRecord>& records,
                                      int64_t delivery_time_us, std::string_view unique_seed,
                                      LogKind kind = LogKind::kCloudTrail);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_WRITER_H_
