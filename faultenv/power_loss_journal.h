// Power-loss simulation, the journal half (in the spirit of LevelDB's FaultInjectionTestEnv):
// what a power cut would keep of the files a process wrote.
//
// PowerLossJournal records, one line per event in an append-only text file outside the
// database, every file the process creates, reopens, syncs, renames, links or deletes, with the
// size that is durable after each sync. A kill -9 does not lose the journal (its writes are in
// the page cache, which survives the process); it loses nothing else either, which is why
// ApplyPowerLoss must run after the kill and before the restart: it truncates each journaled
// file to the size of its last successful sync and removes files created and never synced,
// which is what a power cut could leave on a disk whose drive honours fsync and nothing else.
//
// Simplifications (documented, stricter or equal to real file systems): directory entries are
// treated as durable once the file's data is synced (no directory-fsync tracking); files that
// were deleted stay deleted; a file reopened for appending counts as durable up to the size it
// had when reopened.
//
// Thread safety: PowerLossJournal's methods may be called from any thread (one write(2) per
// record under a mutex). ApplyPowerLoss is a plain function; run it while no process writes
// the files. Errors: Status (IO errors of the journal file); a journal line it cannot parse is
// a DATA_LOSS error naming the line.
#ifndef ORGTRAIL_FAULTENV_POWER_LOSS_JOURNAL_H_
#define ORGTRAIL_FAULTENV_POWER_LOSS_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace orgtrail::faultenv {

class PowerLossJournal {
 public:
  // Opens (creating or appending to) the journal at `path`.
  static absl::StatusOr<std::unique_ptr<PowerLossJournal>> Open(const std::string& path);
  ~PowerLossJournal();
  PowerLossJournal(const PowerLossJournal&) = delete;
  PowerLossJournal& operator=(const PowerLossJournal&) = delete;

  void Created(const std::string& file);                      // new or truncated: nothing durable
  void Reopened(const std::string& file, uint64_t size);      // existing bytes count as durable
  void Synced(const std::string& file, uint64_t size);        // durable up to size
  void Renamed(const std::string& from, const std::string& to);
  void Linked(const std::string& from, const std::string& to);
  void Deleted(const std::string& file);

  // Records whose write(2) failed (the journal is then incomplete; tests should fail on it).
  uint64_t write_errors() const;

 private:
  explicit PowerLossJournal(int fd) : fd_(fd) {}
  void Append(char op, uint64_t size, const std::string& a, const std::string& b = "");

  const int fd_;
  mutable std::mutex mu_;
  uint64_t write_errors_ = 0;  // guarded by mu_
};

// What ApplyPowerLoss did.
struct PowerLossOutcome {
  uint64_t files_tracked = 0;     // journaled files that still exist
  uint64_t files_truncated = 0;   // cut back to their last synced size
  uint64_t files_removed = 0;     // created and never synced
  uint64_t bytes_dropped = 0;     // unsynced bytes lost in total (truncations + removals)
  uint64_t data_bytes_dropped = 0;  // ... of which in files other than RocksDB's info LOG
  std::string ToString() const;
};

// Applies a power cut to every file the journal at `journal_path` tracks (see above), then
// removes the journal (the files are now exactly their durable state). A missing journal is
// not an error (nothing was written through the wrapper): the outcome is all zeros.
absl::StatusOr<PowerLossOutcome> ApplyPowerLoss(const std::string& journal_path);

// What ApplyPowerLoss would do now, changing nothing (e.g. while the process is stopped, to pick
// a moment when a power cut would drop something).
absl::StatusOr<PowerLossOutcome> PreviewPowerLoss(const std::string& journal_path);

}  // namespace orgtrail::faultenv

#endif  // ORGTRAIL_FAULTENV_POWER_LOSS_JOURNAL_H_
