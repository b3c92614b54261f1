// The agent's durable spool: one RocksDB database with a column family per
// job. Every write is a single synced WriteBatch, so a crash (kill -9, power
// loss) leaves the state before or after a write, never between.
//
// Column families and keys (U(n) = 8-byte big-endian):
//   pending      U(pending_id)        -> orgtrail.v1.Event   (accepted, not yet batched)
//   batches      U(sequence)          -> orgtrail.v1.Batch   (sealed and signed ONCE,
//                                                             resent byte for byte)
//   checkpoints  source key (string)  -> source-defined bytes (e.g. file offsets)
//   state        "epoch" | "next_sequence" | "last_batch_hash" | "trail_config"
//                | "sequence_confirmed"
//   dead_letters U(sequence)          -> reason NUL the batch bytes (listed and replayed
//                                         by `orgtrail-agent dead-letters`)
//   quarantine   source key (string)  -> reason (malformed inputs, e.g. files)
//
// Capacity: the spool is bounded (SpoolOptions::max_bytes, counted over the
// pending and sealed values). AppendEvents returns RESOURCE_EXHAUSTED when the
// new events do not fit; callers pause their source and retry later. Nothing
// is ever dropped silently.
//
// Thread safety: all methods are thread-safe. AppendEvents (sources) and
// SealPending (batcher) may run concurrently; the in-memory counters are
// guarded by a mutex, RocksDB does the rest.
//
// Errors: UNAVAILABLE / DATA_LOSS for RocksDB I/O or corruption,
// RESOURCE_EXHAUSTED when full, INVALID_ARGUMENT for bad arguments.
#ifndef ORGTRAIL_AGENT_SPOOL_H_
#define ORGTRAIL_AGENT_SPOOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/admin.pb.h"
#include "orgtrail/v1/ingest.pb.h"

namespace rocksdb {
class DB;
class Status;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace orgtrail::agent {

class SealedHandoff;

struct SpoolOptions {
  std::string path;                      // directory of the RocksDB database
  uint64_t max_bytes = 256ull << 20;     // bound on pending + sealed bytes
  bool sync = true;                      // fsync every write (tests may not disable it)
  // All column families' memtables together. The file source's read-ahead bound keeps what the
  // spool holds near the batches in flight, so 8 MiB is enough (with 16 MiB the agent peaked at
  // 65-68 MiB on bench/run.sh's peer load against 61-62 MiB, and ran no faster).
  uint64_t memtable_budget_bytes = 8ull << 20;
  uint64_t block_cache_bytes = 4ull << 20;
  rocksdb::Env* env = nullptr;           // tests only (e.g. faultenv's power-loss journal); not owned
  // Tests only: runs after an append's events became visible in the database and before
  // AppendEvents returns (where a concurrent seal may take them).
  std::function<void()> test_after_append_write;
};

struct SourceCheckpoint {
  std::string key;    // source-defined, e.g. "file:<dev>:<ino>:<fingerprint>"
  std::string value;  // source-defined
};

struct PendingEvent {
  uint64_t id = 0;
  v1::Event event;
  size_t stored_bytes = 0;
  bool unreadable = false;   // the stored bytes did not parse (disk corruption): event is empty
  std::string stored_value;  // the stored bytes, kept only when unreadable (for the quarantine)
};

struct AgentState {
  uint64_t epoch = 0;
  uint64_t next_sequence = 1;
  Digest last_batch_hash{};        // hash of the batch next_sequence-1 (zeros = none)
  bool sequence_confirmed = false; // false until a HelloAck told us the collector's high water
};

struct SpoolStats {
  uint64_t pending_events = 0;
  uint64_t pending_bytes = 0;
  uint64_t sealed_batches = 0;
  uint64_t sealed_bytes = 0;
  uint64_t dead_letters = 0;
  uint64_t quarantined = 0;
  uint64_t max_bytes = 0;
  std::optional<uint64_t> lowest_sealed_sequence;
  std::optional<uint64_t> highest_sealed_sequence;
};

class Spool {
 public:
  static StatusOr<std::unique_ptr<Spool>> Open(const SpoolOptions& options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // True if the database did not exist (or had no state) before Open: the
  // agent starts with no memory of the sequences it used.
  bool fresh() const { return fresh_; }

  // True once a write or its sync failed, or an iterator reported an error
  // (I/O error, disk full, corruption): RocksDB then
  // refuses every further write until reopened, so the agent must fail-stop
  // (exit; its supervisor restarts it and RocksDB recovers from its WAL).
  // Nothing a source was told is durable depends on the failed write.
  bool failed() const { return failed_.load(); }

  // ---- sources
  // Appends events and source checkpoints in ONE synced write.
  // RESOURCE_EXHAUSTED (nothing written) if the events do not fit.
  Status AppendEvents(const std::vector<v1::Event>& events,
                      const std::vector<SourceCheckpoint>& checkpoints);
  StatusOr<std::optional<std::string>> GetCheckpoint(const std::string& key) const;
  // Only the checkpoint (e.g. a file fully read with no selected events).
  Status PutCheckpoint(const SourceCheckpoint& checkpoint);
  Status Quarantine(const std::string& key, const std::string& reason);
  StatusOr<std::optional<std::string>> GetQuarantine(const std::string& key) const;
  std::vector<std::pair<std::string, std::string>> ListQuarantine() const;
  bool HasRoomFor(uint64_t bytes) const;

  // ---- batcher
  // Oldest pending events, up to the limits (at least one if any is pending).
  std::vector<PendingEvent> ReadPending(size_t max_events, size_t max_bytes) const;
  // Atomically: stores the sealed batch, deletes the pending events with ids
  // <= last_pending_id that were read for it, advances next_sequence and
  // last_batch_hash. A batch without events only deletes the pending entries
  // (all of them were unreadable): nothing is stored, no sequence is used.
  Status CommitSealedBatch(v1::Batch batch, const Digest& batch_hash,
                           const std::vector<uint64_t>& pending_ids, uint64_t pending_bytes);
  // Atomically: stores batches sealed straight from a source's events (never
  // pending), advances next_sequence and last_batch_hash (the last batch's
  // hash), and stores the source's checkpoints. The batches must continue the
  // chain at state().next_sequence. On success *batches is moved from (left
  // empty); on error it is untouched. RESOURCE_EXHAUSTED (nothing written)
  // when they do not fit in max_bytes.
  Status CommitDirectBatches(std::vector<v1::Batch>* batches, const Digest& last_batch_hash,
                             const std::vector<SourceCheckpoint>& checkpoints);
  // Replaces a stored batch in place (same sequence): used to re-sign with a
  // rotated key (the header and batch hash do not change).
  Status ReplaceBatch(const v1::Batch& batch);

  // ---- stream
  // Batches just committed are handed to the stream from memory (moved out
  // once; bounded, see agent/src/sealed_handoff.h); resends and a stream that
  // fell behind read them from the database.
  // A sealed batch whose stored bytes do not parse (disk corruption) is moved
  // to the dead letters with its bytes (reason "unreadable_spool_entry") and
  // skipped, never dropped: it shows in the dead-letter count and health.
  std::vector<v1::Batch> ReadBatchesFrom(uint64_t first_sequence, size_t max_batches);
  std::optional<v1::Batch> ReadBatch(uint64_t sequence) const;
  // Deletes every sealed batch with sequence <= sequence (acknowledged).
  Status PruneThrough(uint64_t sequence);

  // What is not acknowledged yet: pending and sealed bytes together, and how long ago the
  // collector last acknowledged a batch (PruneThrough), counted from Open when none was.
  struct Backlog {
    uint64_t bytes = 0;
    int64_t ms_since_ack = 0;
  };
  // Waits, at most `max_wait`, until the backlog is `bytes` or less; returns it either way.
  // Woken by acknowledgements and dead-lettering (spool_backlog.cc).
  Backlog WaitForBacklogAtMost(uint64_t bytes, std::chrono::milliseconds max_wait) const;
  // Moves a refused batch to the dead letters with the reason.
  Status DeadLetter(uint64_t sequence, const std::string& reason);
  std::vector<std::pair<uint64_t, std::string>> ListDeadLetters() const;
  // Every dead letter with its reason and events (empty when its bytes do not parse).
  struct DeadLetterRecord {
    uint64_t sequence = 0;
    std::string reason;
    bool readable = false;
    std::vector<v1::Event> events;
  };
  StatusOr<std::vector<DeadLetterRecord>> ReadDeadLetters() const;
  // Moves the events of every readable dead letter back to pending (they are
  // batched, signed and sent again under new sequences) and deletes it; an
  // unreadable one stays. RESOURCE_EXHAUSTED (that letter kept) when the spool
  // has no room. The collector deduplicates by (account, eventID), so a crash
  // between the re-append and the delete stores nothing twice.
  struct ReplayResult {
    uint64_t batches = 0;
    uint64_t events = 0;
    uint64_t kept_unreadable = 0;
  };
  StatusOr<ReplayResult> ReplayDeadLetters();
  // Replaces EVERY stored batch by new_batches (re-sealed under new
  // sequences after a collision with sequences the collector already holds)
  // and sets next_sequence / last_batch_hash, in one write.
  Status ReplaceAllBatches(const std::vector<v1::Batch>& new_batches, uint64_t next_sequence,
                           const Digest& last_batch_hash);

  // ---- state
  AgentState state() const;
  // Bumps and persists the epoch (call once per start); returns the new epoch.
  StatusOr<uint64_t> BumpEpoch();
  // After HelloAck: sets the next sequence and the chain position and marks
  // the sequence confirmed (persisted).
  Status SetSequencePosition(uint64_t next_sequence, const Digest& last_batch_hash);
  Status PutTrailConfig(const v1::TrailConfig& config);
  std::optional<v1::TrailConfig> GetTrailConfig() const;

  SpoolStats Stats() const;
  // Age in microseconds of the oldest pending or unacknowledged data (0 = empty).
  int64_t OldestAgeMicros(int64_t now_us) const;
  // Age of the oldest pending (not yet batched) event (0 = none pending).
  int64_t OldestPendingAgeMicros(int64_t now_us) const;

 private:
  Spool() = default;
  Status Write(void* write_batch);  // rocksdb::WriteBatch*
  Status LoadCounters();
  void PutState(void* write_batch, const AgentState& state);
  // Fail-stop on an iterator error (its results were incomplete).
  void NoteIteratorStatus(const rocksdb::Status& status) const;

  SpoolOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* pending_ = nullptr;
  rocksdb::ColumnFamilyHandle* batches_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* dead_letters_ = nullptr;
  rocksdb::ColumnFamilyHandle* quarantine_ = nullptr;
  bool fresh_ = false;
  std::unique_ptr<SealedHandoff> handoff_;
  mutable std::atomic<bool> failed_{false};  // set by const readers too (iterator errors)

  mutable std::mutex mu_;  // guards everything below
  AgentState state_;
  uint64_t next_pending_id_ = 1;
  // Every pending id below this one has been deleted (sealed into a batch): ReadPending seeks
  // here instead of scanning the deleted entries' tombstones from the start of the queue.
  uint64_t first_pending_id_ = 1;
  uint64_t pending_events_ = 0;
  uint64_t pending_bytes_ = 0;
  std::map<uint64_t, uint64_t> sealed_sizes_;   // sequence -> bytes
  std::map<uint64_t, int64_t> pending_times_;   // pending id -> time appended (us), sampled
  std::map<uint64_t, int64_t> sealed_times_;    // sequence -> created_time_us
  uint64_t sealed_bytes_ = 0;
  uint64_t dead_letters_count_ = 0;
  uint64_t quarantined_count_ = 0;
  // PruneThrough's last call, or Open (a steady clock: a wall-clock step never looks like a
  // silent collector).
  std::chrono::steady_clock::time_point last_ack_time_;
  mutable std::condition_variable backlog_shrank_;  // with mu_
  std::mutex append_mu_;  // serializes pending id allocation + write
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_SPOOL_H_
