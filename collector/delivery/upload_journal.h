// UploadJournal: ExportUploader's durable cursor, the export files the object store has confirmed.
// An append-only text file, one line per confirmed upload:
//   "<sha256 hex of the bytes> <size> <mtime ns> <export key>\n"
// Record() appends and fdatasyncs before returning, so after a crash every recorded upload is
// known and nothing else is (a file uploaded but not yet recorded is uploaded again: same key,
// same bytes). A torn last line (a crash while appending) is dropped at Open. A later line for
// the same key wins. Open compacts the file (write to a temporary name, fsync, rename) when it
// holds more than twice as many lines as keys.
//
// Errors: UNAVAILABLE for I/O (naming the path), DATA_LOSS for a malformed complete line (naming
// the line number). Not thread-safe; one owner.
#ifndef ORGTRAIL_COLLECTOR_DELIVERY_UPLOAD_JOURNAL_H_
#define ORGTRAIL_COLLECTOR_DELIVERY_UPLOAD_JOURNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct UploadJournalEntry {
  std::string sha256_hex;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

class UploadJournal {
 public:
  static StatusOr<std::unique_ptr<UploadJournal>> Open(const std::string& path);
  ~UploadJournal();
  UploadJournal(const UploadJournal&) = delete;
  UploadJournal& operator=(const UploadJournal&) = delete;

  const UploadJournalEntry* Find(const std::string& key) const;
  // Keys must be non-empty and hold no '\n'. After a failed write every later Record fails too
  // (the file may end in a partial line): reopen the journal, which drops that line.
  Status Record(const std::string& key, const UploadJournalEntry& entry);
  size_t size() const { return entries_.size(); }
  const std::map<std::string, UploadJournalEntry>& entries() const { return entries_; }

 private:
  UploadJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  Status broken_;  // first write failure
  std::map<std::string, UploadJournalEntry> entries_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_DELIVERY_UPLOAD_JOURNAL_H_
