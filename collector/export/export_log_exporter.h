// The export loop's log-file step: reads events committed after the export
// cursor from the store's commit order, groups them by partition (account,
// export region = partition region, i.e. the home region for global-service
// events), writes one CloudTrail log file per partition (split when large; the
// collector's Insights records go to CloudTrail-Insight files of their partition),
// records each written file as "pending" for the digest publisher, and
// advances the cursor.
//
// Crash safety and idempotence (collector/EXPORT.md):
//   1. metadata "export/intent" = (from, to, delivery time), synced;
//   2. the files are written (temporary name, fsync, rename, fsync folder);
//      their names and bytes are a pure function of the intent, because the
//      unique string is derived from (from, to, partition, part);
//   3. ONE synced metadata write: cursor = to, the pending-digest entries of
//      the files, intent deleted.
// A crash before 1 leaves nothing; between 1 and 3 Recover() (called at
// startup and at the start of every round) rewrites exactly the same files
// under the same names (rename replaces) and then performs 3. So every
// commit index is exported exactly once: no gap, no duplicate.
//
// Not thread-safe: one exporter thread. Errors from the store or the file
// system are returned; the round can be retried.
#ifndef ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_EXPORTER_H_
#define ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_EXPORTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/export/export_log_writer.h"
#include "collector/store/store.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct LogExporterOptions {
  std::string export_root;
  std::string org_id;  // "o-..." folder name under AWSLogs/
  uint64_t max_events_per_round = 50000;
  uint64_t max_records_per_file = 10000;
  uint64_t max_file_bytes = 32ull << 20;  // uncompressed, soft limit
  // Prefix of every metadata key this exporter (and its digest publisher) keeps: "" for the
  // organization archive ("export/cursor", "digest/pending/..."), "trailexport/<trail>/" for a
  // trail's own delivery (collector/delivery/trail_pipeline.h).
  std::string metadata_namespace;
  // Which stored events go into the files (null = every event). A skipped event still advances
  // the cursor. Called on the exporter thread.
  std::function<bool(const StoredEvent&)> select;
  // Mixed into every file's unique string, so two exports of the same commit range into one bucket
  // never share a file name ("" for the archive; the trail name for a trail).
  std::string unique_seed;
  // Called after a round's commit with the new cursor (null = the exporter sets the store's
  // retention hold itself, as the only exporter). With several exporters the owner keeps the hold
  // at the smallest cursor.
  std::function<void(uint64_t cursor)> exported_through;
  // Test hook, called at named steps ("intent", "file", "before-commit",
  // "committed"); a test may _exit() inside it to simulate a crash.
  std::function<void(std::string_view step)> step_hook;
};

// A log file written and awaiting its digest (metadata "digest/pending/...").
struct PendingLogFile {
  std::string account_id;
  std::string region;
  int64_t delivery_time_us = 0;
  std::string key;
  Digest sha256{};
  int64_t newest_event_time_us = 0;
  int64_t oldest_event_time_us = 0;
  std::string metadata_key;  // where it is recorded
};

// Metadata key helpers shared with the digest publisher; ns = LogExporterOptions::metadata_namespace.
std::string PendingLogFileKey(const PendingLogFile& file, std::string_view ns = {});
std::string PendingLogFilePrefix(std::string_view account_id, std::string_view region, std::string_view ns = {});
inline constexpr std::string_view kPendingLogFileRoot = "digest/pending/";
inline constexpr std::string_view kExportPartitionRoot = "digest/partition/";
std::string ExportPartitionKey(std::string_view account_id, std::string_view region, std::string_view ns = {});
bool DecodeExportPartitionKey(std::string_view key, std::string* account_id, std::string* region,
                              std::string_view ns = {});
std::string EncodePendingLogFileValue(const PendingLogFile& file);
bool DecodePendingLogFile(std::string_view key, std::string_view value, PendingLogFile* file,
                          std::string_view ns = {});

inline constexpr std::string_view kExportCursorKey = "export/cursor";
inline constexpr std::string_view kExportIntentKey = "export/intent";

struct ExportRoundResult {
  uint64_t first_commit_index = 0;  // 0 = nothing exported
  uint64_t last_commit_index = 0;
  uint64_t events_exported = 0;
  std::vector<WrittenLogFile> files;
  bool recovered = false;  // the round completed an interrupted one
};

class LogExporter {
 public:
  LogExporter(EventStore* store, LogExporterOptions options);

  // Completes an interrupted round if an intent is recorded.
  StatusOr<ExportRoundResult> Recover();
  // Recover(), then exports what was committed after the cursor (at most
  // max_events_per_round events) with the given delivery time.
  StatusOr<ExportRoundResult> ExportOnce(int64_t delivery_time_us);

  StatusOr<uint64_t> Cursor() const;

 private:
  StatusOr<ExportRoundResult> RunRange(uint64_t from, uint64_t to, int64_t delivery_time_us);
  std::string CursorKey() const { return options_.metadata_namespace + std::string(kExportCursorKey); }
  std::string IntentKey() const { return options_.metadata_namespace + std::string(kExportIntentKey); }
  void Step(std::string_view step) const {
    if (options_.step_hook) options_.step_hook(step);
  }

  EventStore* store_;
  LogExporterOptions options_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_EXPORT_EXPORT_LOG_EXPORTER_H_
