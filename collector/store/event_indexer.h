// EventIndexer: writes the attribute indexes (column family "idx") behind the acknowledgement.
//
// EventStore::CommitGroup syncs what an acknowledgement promises: the records, the dedup entries,
// the commit order, the provenance and the agents' high-water marks. The index entries of the
// group's stored events (a pure function of each record) go to this indexer as one WriteBatch.
// A background thread writes them in commit order together with the index cursor (kIndexCursorKey,
// the last commit index indexed, kept in "idx" itself) in ONE WriteBatch that bypasses the
// write-ahead log: the entries are derived data, so they are made durable by the flushes of the
// idx memtables, not by the committer's fsyncs (by the key layout, about a third of an event's
// WriteBatch bytes stay off them). A flush persists whole WriteBatches of that one column family,
// so a crash loses a suffix of the entries together with the cursor's advance over them, never
// entries without their cursor or the reverse.
//
// The in-memory queue is bounded: when it is over its byte budget, Submit waits for the indexer
// (backpressure on the committer), so the index lags the acknowledgements by at most the budget.
// After a restart the cursor may be behind the commit order: the thread then rebuilds the missing
// entries from the stored records (commit order -> record -> EventExtractor), which is idempotent
// (the same record gives the same keys; rewriting a key changes nothing).
//
// "Visible" means indexed: readers of the index call WaitIndexed(last_commit_index) first (the
// store's NewIndexedSnapshot does), so a query issued after an acknowledgement sees its events
// unless the indexer is more than the wait behind.
//
// Thread safety: Submit from the store's single writer; everything else from any thread.
// Errors: a failed index write stops indexing (the records stay intact; the lag then grows, and
// readers wait out their limit and read what is indexed); the next open rebuilds from the cursor.
#ifndef ORGTRAIL_COLLECTOR_STORE_EVENT_INDEXER_H_
#define ORGTRAIL_COLLECTOR_STORE_EVENT_INDEXER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "orgtrail/common/status.h"
#include "orgtrail/v1/event.pb.h"

namespace orgtrail::collector {

class EventStore;

// Adds the index entries of one stored event to *wb (column family idx): one per distinct non-empty
// value of each attribute, plus the organization-wide time index entry. account_id and region are
// the event's partition.
void AddIndexEntries(const v1::Event& event, std::string_view account_id, std::string_view region,
                     rocksdb::ColumnFamilyHandle* idx, rocksdb::WriteBatch* wb);

class EventIndexer {
 public:
  struct Options {
    uint64_t queue_bytes = 32ull << 20;  // entries waiting in memory; over it Submit waits
    uint64_t catch_up_events = 2000;     // records read back per WriteBatch when rebuilding
  };
  struct Stats {
    uint64_t indexed_through = 0;      // the cursor
    uint64_t events_rebuilt = 0;       // indexed from the stored records (after a restart)
    uint64_t records_unreadable = 0;   // stored records the rebuild could not parse (not indexed)
    uint64_t queue_bytes = 0;
  };

  // `store` must outlive the indexer (the store owns it and stops it before closing).
  EventIndexer(EventStore* store, Options options);
  ~EventIndexer();  // Stop()
  EventIndexer(const EventIndexer&) = delete;
  EventIndexer& operator=(const EventIndexer&) = delete;

  // Starts the thread with the cursor read at open and the store's last commit index.
  void Start(uint64_t indexed_through, uint64_t last_committed);
  // The entries of commit indexes [first, last] (the group just synced). Waits while the queue
  // holds other entries and has no room for these (or the indexer has stopped on an error).
  void Submit(uint64_t first, uint64_t last, rocksdb::WriteBatch entries);
  // True once everything up to `commit_index` is indexed, false after `max_wait`.
  bool WaitIndexed(uint64_t commit_index, std::chrono::milliseconds max_wait) const;
  Stats stats() const;
  // Indexes everything committed so far, then ends the thread. Idempotent.
  void Stop();

 private:
  struct Work {
    uint64_t first = 0;
    uint64_t last = 0;
    rocksdb::WriteBatch entries;
  };
  void Run();
  // Writes *entries plus the cursor at `through`.
  Status WriteIndexed(rocksdb::WriteBatch* entries, uint64_t through);
  // Rebuilds [first, through] from the records, in WriteBatches of catch_up_events.
  Status Rebuild(uint64_t first, uint64_t through);

  EventStore* const store_;
  Options options_;
  mutable std::mutex mu_;
  mutable std::condition_variable work_cv_;     // Submit / Stop -> thread
  mutable std::condition_variable indexed_cv_;  // thread -> WaitIndexed, Submit (room)
  std::deque<Work> queue_;
  uint64_t queued_bytes_ = 0;
  uint64_t committed_ = 0;
  uint64_t indexed_ = 0;
  uint64_t events_rebuilt_ = 0;
  uint64_t records_unreadable_ = 0;
  Status status_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_EVENT_INDEXER_H_
