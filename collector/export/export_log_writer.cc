// CloudTrail log file naming and writing (see export_log_writer.h).
#include "collector/export/export_log_writer.h"
#include "collector/export/export_strings.h"

#include <algorithm>

#include "collector/export/export_file.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;
using internal::Split;

// "YYYY/MM/DD" of a UTC instant, from the compact minute form "YYYYMMDDTHHmmZ".
std::string DateFolder(int64_t micros) {
  std::string compact = FormatCompactMinute(micros);
  return Cat(compact.substr(0, 4), "/", compact.substr(4, 2), "/", compact.substr(6, 2));
}

bool IsSafeToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

Status CheckExportPartition(const ExportPartition& p) {
  if (!IsSafeToken(p.org_id)) return absl::InvalidArgumentError("export partition: bad org id");
  if (!IsValidAccountId(p.account_id)) {
    return absl::InvalidArgumentError(Cat("export partition: bad account '", p.account_id, "'"));
  }
  if (!IsSafeToken(p.region)) {
    return absl::InvalidArgumentError(Cat("export partition: bad region '", p.region, "'"));
  }
  return absl::OkStatus();
}

std::string UniqueStringForSeed(std::string_view seed) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  Digest d = Sha256(seed);
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kAlphabet[d[i] % 62]);
  return out;
}

std::string LogFileKey(const ExportPartition& p, int64_t delivery_time_us,
                       std::string_view unique16, LogKind kind) {
  const std::string_view folder = kind == LogKind::kInsight ? "CloudTrail-Insight" : "CloudTrail";
  return Cat("AWSLogs/", p.org_id, "/", p.account_id, "/", folder, "/", p.region, "/",
                      DateFolder(delivery_time_us), "/", p.account_id, "_", folder, "_", p.region,
                      "_", FormatCompactMinute(delivery_time_us), "_", unique16, ".json.gz");
}

std::string BuildRecordsDocument(const std::vector<ExportRecord>& records) {
  size_t total = 14;
  for (const auto& r : records) total += r.raw_json.size() + 1;
  std::string doc;
  doc.reserve(total);
  doc.append("{\"Records\":[");
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) doc.push_back(',');
    doc.append(records[i].raw_json);
  }
  doc.append("]}");
  return doc;
}

StatusOr<WrittenLogFile> WriteLogFile(const std::string& export_root,
                                      const ExportPartition& partition,
                                      const std::vector<ExportRecord>& records,
                                      int64_t delivery_time_us, std::string_view unique_seed,
                                      LogKind kind) {
  ORGTRAIL_RETURN_IF_ERROR(CheckExportPartition(partition));
  if (records.empty()) return absl::InvalidArgumentError("log file: no records");
  WrittenLogFile out;
  out.key = LogFileKey(partition, delivery_time_us, UniqueStringForSeed(unique_seed), kind);
  const std::string doc = BuildRecordsDocument(records);
  out.sha256 = Sha256(doc);
  out.uncompressed_bytes = doc.size();
  out.record_count = records.size();
  out.newest_event_time_us = records.front().event_time_us;
  out.oldest_event_time_us = records.front().event_time_us;
  for (const auto& r : records) {
    out.newest_event_time_us = std::max(out.newest_event_time_us, r.event_time_us);
    out.oldest_event_time_us = std::min(out.oldest_event_time_us, r.event_time_us);
  }
  StatusOr<std::string> gz = GzipCompress(doc);
  if (!gz.ok()) return gz.status();
  out.compressed_bytes = gz->size();
  ORGTRAIL_RETURN_IF_ERROR(WriteExportFileDurably(export_root, out.key, *gz));
  return out;
}

}  // namespace orgtrail::collector
