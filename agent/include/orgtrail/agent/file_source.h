// FileSource: watches directory trees (CloudTrail's S3 layout or any) for
// CloudTrail files and spools their records.
//
// Files: *.json and *.json.gz ({"Records":[...]}, JSON arrays or JSON Lines,
// read whole once complete: unchanged for `settle_ms`), *.jsonl / *.ndjson
// (JSON Lines, tailed as they grow). Hidden files (".name") and *.tmp are
// ignored. New files are noticed through inotify within a second, with a
// periodic rescan as a safety net.
//
// Exactly-once from files: each file has a checkpoint in the spool keyed by
// an identity that survives rename (device, inode, and a fingerprint of the
// first 64 bytes, so a reused inode is a new file); the checkpoint (record
// index / byte offset) is written in the SAME RocksDB WriteBatch as the
// records it covers. A restart continues exactly after the last spooled
// record. Files shorter than 64 bytes wait until they grow (a CloudTrail
// record is longer than that).
//
// Malformed files (not JSON, truncated, wrong wrapper, corrupt gzip, too big)
// are quarantined: recorded in the spool's quarantine column family with the
// reason, logged and counted, never read again; the rest go on. Individual
// records that fail the intake checks are refused (logged, counted) and the
// file goes on. A JSON Lines line longer than max_line_bytes is refused on its
// own: recorded in the quarantine (key "<file identity>#offset=N", with its
// offset and length), counted (events_refused{reason="line_too_long"}) and
// logged; the checkpoint moves past it and the lines after it are read.
//
// Spooling: with a Batcher, a chunk of a quarter batch or more is sealed
// straight into batches in the write that moves its checkpoint
// (Batcher::SpoolEvents); without one, or for smaller chunks, the records wait
// as pending events.
//
// Back-pressure: when the spool is full the source pauses (no further reads)
// and retries until there is room. Nothing is dropped.
//
// Read-ahead: a file is already durable where it is, so while the collector
// acknowledges, the source keeps at most `read_ahead_bytes` unacknowledged in
// the spool and reads on as acknowledgements free room; the rest of the file
// waits on disk. Copying a backlog into the spool only to send it moments
// later costs the spool's flushes and compactions (CPU) and memory. When the
// collector has acknowledged nothing for `read_ahead_ack_window_ms` (it is
// down or cut off), the source copies on into the spool up to its bound, as
// before, so that a file rotated away during an outage is still sent.
//
// Thread safety: Start() runs one background thread; ScanOnce() is for tests
// and must not run concurrently with the thread.
#ifndef ORGTRAIL_AGENT_FILE_SOURCE_H_
#define ORGTRAIL_AGENT_FILE_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "orgtrail/agent/batcher.h"
#include "orgtrail/agent/intake.h"
#include "orgtrail/agent/spool.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/status.h"

namespace orgtrail::agent {

struct FileSourceOptions {
  std::vector<std::string> roots;
  size_t chunk_records = 500;                     // records per spool write, at most (a
                                                  // default batch: sealed directly as one)
  uint64_t max_chunk_bytes = 4 << 20;             // raw bytes per spool write, at most (keep
                                                  // well below the spool bound: main uses 1/8)
  uint64_t max_file_bytes = 1ull << 30;           // on disk
  uint64_t max_line_bytes = 8ull << 20;           // one JSON Lines line, at most
  uint64_t read_window_bytes = 1ull << 20;       // JSON Lines read size; a longer line is
                                                 // read again with max_line_bytes
  uint64_t max_decompressed_bytes = 1ull << 30;   // after gunzip
  int settle_ms = 300;         // whole-document files unchanged this long are read
  int quarantine_after_ms = 5000;  // a still-changing malformed file gets this long
  int rescan_interval_ms = 1000;
  // Unacknowledged bytes in the spool past which the source waits while the collector
  // acknowledges (see above); 0 = read ahead up to the spool's bound.
  uint64_t read_ahead_bytes = 8ull << 20;
  int read_ahead_ack_window_ms = 5000;
  int max_logged_refusals_per_file = 10;
  // Refused records kept in the spool's quarantine with their reason and bytes, per file
  // (the rest are counted in orgtrail_agent_events_refused_total).
  int max_quarantined_records_per_file = 1000;
};

class FileSource {
 public:
  FileSource(FileSourceOptions options, Spool* spool, EventIntake* intake, Logger* logger,
             MetricsRegistry* metrics, std::function<void()> on_spooled = nullptr,
             Batcher* batcher = nullptr);
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Status Start();
  void Stop();
  // One pass over every root (tests; also what the thread does).
  Status ScanOnce();

  // The checkpoint key of a file (device, inode, fingerprint); NOT_FOUND
  // while the file is shorter than the fingerprint.
  static StatusOr<std::string> FileIdentity(const std::string& path);

 private:
  struct Seen {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    bool finished = false;
  };
  struct Checkpoint {
    uint64_t offset = 0;
    uint64_t record_index = 0;
    bool done = false;
  };
  void Run();
  void WatchDirectory(const std::string& dir);
  Status ProcessFile(const std::string& path, uint64_t size, int64_t mtime_ns, bool* finished);
  Status ProcessWholeDocument(const std::string& path, const std::string& identity,
                              Checkpoint checkpoint, int64_t age_ms, bool* finished);
  Status ProcessJsonLines(const std::string& path, const std::string& identity,
                          Checkpoint checkpoint, uint64_t size);
  // Prepares the records, then spools the selected ones with the checkpoint,
  // pausing while the spool is full. false if stopped meanwhile.
  StatusOr<bool> SpoolChunk(const std::string& path, const std::vector<std::string_view>& records,
                            uint64_t first_index, const std::string& identity,
                            const Checkpoint& checkpoint, int* refusals_seen);
  // Waits while the spool holds more than read_ahead_bytes unacknowledged and the collector
  // acknowledges. false if stopped meanwhile.
  bool WaitForReadAheadRoom();
  // End of the chunk starting at `begin` (count and byte limits, >= 1 record).
  size_t ChunkEnd(const std::vector<std::string_view>& records, size_t begin) const;
  // Skips the line at `offset` (longer than max_line_bytes): quarantines it as
  // one refused record and checkpoints past it. Returns the offset after its
  // newline, or nullopt while its newline is not written yet.
  StatusOr<std::optional<uint64_t>> SkipLongLine(const std::string& path, const std::string& identity,
                                                 uint64_t offset, uint64_t size, uint64_t index);
  Status QuarantineFile(const std::string& path, const std::string& identity,
                        const std::string& reason);

  FileSourceOptions options_;
  Spool* spool_;
  Batcher* batcher_;  // may be null: every record then waits as a pending event
  EventIntake* intake_;
  Logger* logger_;
  std::function<void()> on_spooled_;
  EventExtractor extractor_;
  std::map<std::string, Seen> seen_;
  std::set<std::string> watched_dirs_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Counter* files_read_;
  Counter* files_quarantined_;
  Counter* pauses_;
  Gauge* paused_;
  Counter* read_ahead_waits_;
  Counter* scans_;
  Gauge* files_unfinished_;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_FILE_SOURCE_H_
