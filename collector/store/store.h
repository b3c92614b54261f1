// EventStore: the collector's durable, partitioned event store on RocksDB
// (layout: collector/STORAGE.md).
//
// Column families, one job each:
//   events      partition key + time + eventID -> record (raw JSON byte for byte,
//               collector metadata beside it)
//   event_ids   (eventID, account) -> event key (dedup per account, GetEvent)
//   idx         attribute indexes + organization-wide time index, newest first
//   commits     commit index (monotonic, one per stored event) -> event key
//   provenance  (agent, sequence) -> signed batch header, signature, leaf hashes
//   certs       SHA-256(cert DER) -> agent certificate PEM
//   metadata    agent high-water marks, trails, cursors of other components
//   conflicts   copies of an event whose (account, eventID) was already stored
//               with other bytes: kept with their provenance, never dropped
//   refused     events of a stored batch refused one by one (a per-event rule):
//               bytes, rule and leaf hash, bounded per agent
//
// Contract:
// - Single writer: CommitGroup() is called by one thread at a time (the
//   Committer). Every batch of a group goes into ONE rocksdb::WriteBatch
//   written with sync=true, so a crash leaves all or none of a group.
//   If CommitGroup fails the store is unusable for writes (fail-stop is the
//   caller's job; RocksDB itself also refuses further writes).
// - Readers may call every const/read method from any thread concurrently with
//   the writer. Reads see only whole groups (WriteBatch atomicity); use a
//   Snapshot for a consistent view across several reads.
// - The attribute indexes (idx) are written behind the acknowledgement by an EventIndexer, in
//   commit order with a durable cursor. Index readers see every acknowledged event: they wait
//   for the indexer first (NewIndexedSnapshot), at most StoreOptions::index_wait_ms.
// - Commit listeners run on the writer thread after a group is durable, with
//   the range of new commit indexes [first, last]; they must be quick and must
//   not call CommitGroup. Register them before ingest starts.
// - Retention: records, index, event_id and commit entries whose eventTime is
//   older than now - retention are dropped by compaction filters (0 = keep).
// - Errors: DATA_LOSS for undecodable stored bytes, UNAVAILABLE for RocksDB
//   I/O errors, NOT_FOUND for absent keys where a value is required.
#ifndef ORGTRAIL_COLLECTOR_STORE_STORE_H_
#define ORGTRAIL_COLLECTOR_STORE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "collector/store/event_indexer.h"
#include "collector/store/recent_events.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/event.pb.h"
#include "orgtrail/v1/query.pb.h"

namespace orgtrail::collector {

enum class ColumnFamily { kEvents, kEventIds, kIndex, kCommits, kProvenance, kCerts, kMetadata, kConflicts, kRefused };
inline constexpr int kColumnFamilyCount = 9;
std::string_view ColumnFamilyName(ColumnFamily cf);  // "events", "event_ids", "idx", ...

struct StoreOptions {
  std::string org;                 // trust domain: first component of every partition key
  int64_t retention_us = 0;        // 0 = keep forever
  rocksdb::Env* env = nullptr;     // tests: fault-injecting Env; nullptr = default
  // Memory: the block cache (data blocks), one budget for the memtables of all column families
  // (a rocksdb::WriteBufferManager; the largest memtable is flushed when the budget is reached),
  // and the table readers' index and Bloom-filter blocks (these grow with the store).
  uint64_t block_cache_bytes = 64ull << 20;
  // Small memtables on purpose: an insert walks a skiplist whose depth and cache misses grow with
  // its size (deploy/README.md, "Size the collector's memory").
  uint64_t memtable_budget_bytes = 32ull << 20;
  uint64_t write_buffer_bytes = 16ull << 20;  // one memtable, at most
  bool create_if_missing = true;
  uint64_t max_refused_per_agent = 100'000;  // refused records with raw bytes, per agent
  // Retention keeps every event until SetRetentionHold() says it was exported
  // (set when an export runs; without it retention goes by age alone).
  bool hold_retention_until_exported = false;
  // The newest committed events kept in memory for the engines that follow right behind the
  // writer (recent_events.h); 0 = none.
  uint64_t recent_events_bytes = 16ull << 20;
  // Index entries waiting in memory for the indexer (event_indexer.h); past it they are rebuilt
  // from the stored records. 0: always rebuilt (tests of that path).
  uint64_t index_queue_bytes = 32ull << 20;
  // How long an index reader (NewIndexedSnapshot, NewIndexIterator without a snapshot) waits for
  // the indexer to reach the last acknowledged event before it reads what is indexed.
  int64_t index_wait_ms = 5000;
};

// One stored record: the raw JSON as received plus what the collector added.
// Extracted fields (eventName, username, resources...) are not stored; readers
// re-extract them from raw_json with EventExtractor.
struct StoredEvent {
  std::string event_key;     // key in "events"
  EventKey key;              // decoded event_key
  v1::StoredEventMeta meta;  // receipt time, agent, batch, leaf index, partition, commit index
  std::string raw_json;      // byte for byte
};

// The signed batch that carried a set of events.
struct ProvenanceRecord {
  std::string agent_id;
  uint64_t sequence = 0;
  std::string signed_header;        // canonical header bytes (common/batch.h)
  std::string signature;
  std::string signature_algorithm;  // "ECDSA_P256_SHA256" | "ED25519"
  Digest certificate_sha256{};      // key into "certs"
  Digest merkle_root{};
  std::vector<Digest> leaf_hashes;  // in batch order
  int64_t receipt_time_us = 0;
};
std::string EncodeProvenanceValue(const ProvenanceRecord& record);
bool DecodeProvenanceValue(std::string_view bytes, ProvenanceRecord* record);

// Per-agent durable state (metadata "agent/<id>").
struct AgentState {
  std::string agent_id;
  std::string account_id;
  std::string region;
  uint64_t high_water_sequence = 0;  // highest durably stored sequence
  Digest last_batch_hash{};          // batch hash of that sequence
  uint64_t epoch = 0;
  int64_t last_seen_us = 0;          // receipt time of the last stored batch
  uint64_t events_stored = 0;        // events this agent's batches added (not duplicates)
  uint64_t events_duplicate = 0;
  uint64_t batches_stored = 0;
  uint64_t events_refused = 0;       // refused one by one (recorded in "refused")
};
std::string EncodeAgentState(const AgentState& state);
bool DecodeAgentState(std::string_view bytes, AgentState* state);

// What the ingest path hands to CommitGroup: a verified, authorized batch.
struct IngestEvent {
  v1::Event event;               // extracted by the collector from raw_json (raw_json set)
  std::string partition_region;  // home region for global-service events
  uint32_t leaf_index = 0;       // position in the batch
};
// An event of a verified batch that a per-event rule refused
// (common/event_acceptance.h, or malformed JSON). Its batch is stored; it is not.
struct RefusedEvent {
  uint32_t leaf_index = 0;
  std::string event_id;  // empty when it could not be read
  std::string rule;
  std::string message;
  bool identity_violation = false;
  std::string raw_json;  // byte for byte
};
struct IngestBatch {
  std::string agent_id;
  std::string account_id;  // the agent's account (partition account of every event)
  std::string region;      // the agent's region
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  std::string signed_header;
  std::string signature;
  std::string signature_algorithm;
  std::string certificate_pem;
  Digest certificate_sha256{};
  Digest merkle_root{};
  Digest batch_hash{};
  Digest prev_batch_hash{};
  std::vector<Digest> leaf_hashes;
  int64_t receipt_time_us = 0;
  std::vector<IngestEvent> events;
  std::vector<RefusedEvent> refused;  // recorded in "refused", never stored as events
};

// A copy of an event whose (account, eventID) is already stored with other
// bytes (a conflict). Its own provenance is (agent_id, sequence, leaf_index):
// the batch is stored like any other; the stored original is existing_event_key.
struct ConflictRecord {
  std::string account_id;
  std::string event_id;
  std::string agent_id;
  uint64_t sequence = 0;
  uint64_t leaf_index = 0;
  int64_t receipt_time_us = 0;
  std::string existing_event_key;  // key in "events" of the stored original
  std::string raw_json;            // the conflicting copy, byte for byte
};
std::string EncodeConflictValue(const ConflictRecord& record);
bool DecodeConflictValue(std::string_view bytes, ConflictRecord* record);  // value fields only

// A refused event as recorded: its sender and position, the rule, the bytes.
// Bounded per agent (StoreOptions::max_refused_per_agent): past the bound the
// record keeps everything but the raw bytes (raw_json_dropped), so every
// refusal stays listed and counted.
struct RefusedRecord {
  std::string agent_id;
  uint64_t sequence = 0;
  uint64_t leaf_index = 0;
  std::string account_id;  // the sender's (from its certificate)
  std::string region;
  std::string event_id;
  std::string rule;
  std::string message;
  bool identity_violation = false;
  bool raw_json_dropped = false;
  int64_t receipt_time_us = 0;
  Digest leaf_hash{};    // SHA-256(0x00 || raw_json): in the batch's Merkle tree
  std::string raw_json;
};
std::string EncodeRefusedValue(const RefusedRecord& record);
bool DecodeRefusedValue(std::string_view bytes, RefusedRecord* record);  // value fields only

struct BatchOutcome {
  bool replay = false;          // sequence <= high-water: nothing stored
  bool chain_break = false;     // prev_batch_hash != stored last batch hash (logged, not refused)
  uint32_t events_stored = 0;
  uint32_t events_duplicate = 0;  // same (account, eventID), same bytes
  uint32_t events_conflict = 0;   // same (account, eventID), other bytes: kept in "conflicts"
  uint32_t events_refused = 0;    // refused one by one: kept in "refused"
  uint64_t ack_sequence = 0;    // cumulative ack to send (the agent's high-water after the group)
};
struct GroupCommitResult {
  std::vector<BatchOutcome> outcomes;  // one per input batch, same order
  uint64_t first_commit_index = 0;     // 0 when the group stored no event
  uint64_t last_commit_index = 0;
  uint64_t write_batch_bytes = 0;
  uint64_t events_stored = 0;
  std::vector<ConflictRecord> conflicts;  // recorded by this group (for logs and metrics)
  std::vector<RefusedRecord> refused;     // recorded by this group (raw_json not copied)
};

// One index or partition entry, newest first.
struct IndexEntry {
  int64_t event_time_us = 0;
  std::string account_id;
  std::string region;
  std::string event_id;
  std::string event_key;  // key in "events"
};

// Walks index entries newest first within [start_us, end_us] of one prefix.
// Touches only matching keys (plus one key past the range). Not thread-safe.
class EventIndexIterator {
 public:
  virtual ~EventIndexIterator() = default;
  virtual bool Valid() const = 0;
  virtual const IndexEntry& entry() const = 0;
  virtual void Next() = 0;
  // Repositions at the newest entry with (time, event_key-order) strictly after
  // `raw_key` in iteration order — for resuming from a paging token that holds raw_key().
  virtual void SeekAfter(std::string_view raw_key) = 0;
  virtual std::string_view raw_key() const = 0;  // current key bytes (opaque)
  virtual Status status() const = 0;
};

// Walks the commit order ascending from a commit index.
class CommitIterator {
 public:
  virtual ~CommitIterator() = default;
  virtual bool Valid() const = 0;
  virtual uint64_t commit_index() const = 0;
  virtual std::string_view event_key() const = 0;
  virtual void Next() = 0;
  virtual Status status() const = 0;
};

// RAII snapshot; pass snapshot() to read methods for a consistent view.
class StoreSnapshot {
 public:
  StoreSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~StoreSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  StoreSnapshot(const StoreSnapshot&) = delete;
  StoreSnapshot& operator=(const StoreSnapshot&) = delete;
  const rocksdb::Snapshot* snapshot() const { return snapshot_; }
 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

class EventStore {
 public:
  using CommitListener = std::function<void(uint64_t first_commit_index, uint64_t last_commit_index)>;

  static StatusOr<std::unique_ptr<EventStore>> Open(const std::string& path, const StoreOptions& options);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // ---- write side (single writer) ----
  // Dedups by (account, eventID) against the store and within the group: the
  // same bytes are a duplicate (skipped), other bytes a conflict (recorded in
  // "conflicts" with both provenances, never dropped). Skips batches
  // at or below their agent's high-water mark, writes everything in one synced
  // WriteBatch, then runs the commit listeners. On error nothing is applied
  // to the in-memory state and the caller must fail-stop.
  StatusOr<GroupCommitResult> CommitGroup(const std::vector<const IngestBatch*>& batches);
  // Write of metadata entries (trails, cursors) in one batch; nullopt value = delete.
  // kSynced: durable when it returns. kWithNextSync: no fsync of its own; every write shares one
  // write-ahead log in order, so it becomes durable with the next synced write (or flush), and a
  // crash before that loses it (and every later deferred write), never an earlier one: only for
  // state its writer can derive again from what was synced (an engine's results with its cursor).
  enum class Durability { kSynced, kWithNextSync };
  using MetadataEntry = std::pair<std::string, std::optional<std::string>>;
  Status WriteMetadata(const std::vector<MetadataEntry>& entries, Durability durability = Durability::kSynced);
  void AddCommitListener(CommitListener listener);

  // ---- read side (any thread) ----
  std::unique_ptr<StoreSnapshot> NewSnapshot() const { return std::make_unique<StoreSnapshot>(db_.get()); }
  // A snapshot whose index holds every event committed when it was asked for, unless the indexer
  // is more than StoreOptions::index_wait_ms behind (then what is indexed; see index_stats()).
  std::unique_ptr<StoreSnapshot> NewIndexedSnapshot() const;
  // True once every event committed before the call is indexed; false after max_wait.
  bool WaitForIndex(std::chrono::milliseconds max_wait) const;
  EventIndexer::Stats index_stats() const { return indexer_->stats(); }
  // nullopt when the eventID is not stored. The same eventID may be stored in
  // several accounts: this returns the one of the lowest account ID; use
  // GetEventByAccountAndId or ListAccountsOfEventId to tell them apart.
  StatusOr<std::optional<StoredEvent>> GetEventById(std::string_view event_id,
                                                    const rocksdb::Snapshot* snapshot = nullptr) const;
  StatusOr<std::optional<StoredEvent>> GetEventByAccountAndId(std::string_view account_id, std::string_view event_id,
                                                              const rocksdb::Snapshot* snapshot = nullptr) const;
  // Accounts in which eventID is stored, ascending.
  StatusOr<std::vector<std::string>> ListAccountsOfEventId(std::string_view event_id,
                                                           const rocksdb::Snapshot* snapshot = nullptr) const;
  // Recorded conflicts in key order (account, eventID, agent, sequence), at most `limit`.
  StatusOr<std::vector<ConflictRecord>> ListConflicts(size_t limit) const;
  uint64_t conflicts_recorded() const { return conflicts_recorded_.load(); }  // since creation
  // Refused events in key order (agent, sequence, leaf), of one agent when agent_id is
  // not empty, only identity violations if asked, at most `limit`.
  StatusOr<std::vector<RefusedRecord>> ListRefused(std::string_view agent_id, bool identity_violations_only,
                                                   size_t limit) const;
  uint64_t refused_recorded() const { return refused_recorded_.load(); }  // since creation
  // Refused records that are identity violations (another account or region), since creation.
  uint64_t identity_violations_recorded() const { return identity_violations_recorded_.load(); }
  StatusOr<std::optional<StoredEvent>> GetEventByKey(std::string_view event_key,
                                                     const rocksdb::Snapshot* snapshot = nullptr) const;
  // As GetEventByKey, into *out, reusing its buffers and *value_buffer's (a reader of many
  // events allocates nothing per event). False when the event is not stored (*out unspecified).
  StatusOr<bool> ReadEventByKey(std::string_view event_key, StoredEvent* out, std::string* value_buffer) const;
  // The event of commit_index from the newest committed events held in memory (RecentEvents), into
  // *out as ReadEventByKey does. False when it is not held there (read the store instead).
  StatusOr<bool> ReadRecentEvent(uint64_t commit_index, StoredEvent* out, std::string* value_buffer) const;
  // Where ReadCommittedEvents read: `last_read` is the last commit index read (`after` when none);
  // removed events are counted in from_store.
  struct CommittedEventReads {
    uint64_t last_read = 0;
    uint64_t from_memory = 0;
    uint64_t from_store = 0;
  };
  // Feeds fn(commit_index, event) the stored events of the commits after `after`, up to `last` and
  // at most `max_commits` commits, in commit order: from memory (ReadRecentEvent) while it holds
  // them, then from RocksDB. Events removed by retention meanwhile are skipped. *out and
  // *value_buffer are reused from event to event. Stops at the first error of fn or of a read.
  StatusOr<CommittedEventReads> ReadCommittedEvents(
      uint64_t after, uint64_t last, uint64_t max_commits, StoredEvent* out, std::string* value_buffer,
      const std::function<Status(uint64_t commit_index, const StoredEvent& event)>& fn) const;
  StatusOr<std::optional<ProvenanceRecord>> GetProvenance(std::string_view agent_id, uint64_t sequence,
                                                          const rocksdb::Snapshot* snapshot = nullptr) const;
  StatusOr<std::optional<std::string>> GetCertificatePem(const Digest& certificate_sha256) const;
  StatusOr<std::optional<std::string>> GetMetadata(std::string_view key) const;
  // All metadata entries whose key starts with prefix, in key order.
  StatusOr<std::vector<std::pair<std::string, std::string>>> ScanMetadata(std::string_view prefix) const;
  // At most `limit` entries whose key starts with prefix and is >= start_key, in key order.
  StatusOr<std::vector<std::pair<std::string, std::string>>> ScanMetadataFrom(std::string_view prefix,
                                                                             std::string_view start_key,
                                                                             size_t limit) const;

  // Attribute index (kind != kAll needs a value) or the org-wide time index (kAll, value ""),
  // over events of every category (LookupEvents reads the management entries alone through
  // collector/query's cursors). Without a snapshot it reads as NewIndexedSnapshot would.
  std::unique_ptr<EventIndexIterator> NewIndexIterator(IndexKind kind, std::string_view value,
                                                       int64_t start_us, int64_t end_us,
                                                       const rocksdb::Snapshot* snapshot = nullptr) const;
  // Time index of one partition (org is the store's), newest first.
  std::unique_ptr<EventIndexIterator> NewPartitionIterator(std::string_view account_id,
                                                           std::string_view region,
                                                           int64_t start_us, int64_t end_us,
                                                           const rocksdb::Snapshot* snapshot = nullptr) const;
  // Commit order from first_commit_index (inclusive), ascending.
  std::unique_ptr<CommitIterator> NewCommitIterator(uint64_t first_commit_index,
                                                    const rocksdb::Snapshot* snapshot = nullptr) const;

  std::optional<AgentState> GetAgentState(std::string_view agent_id) const;
  std::vector<AgentState> ListAgentStates() const;
  uint64_t last_commit_index() const { return last_commit_index_.load(); }
  uint64_t events_stored() const { return events_stored_.load(); }  // since creation (retention not subtracted)

  // Keys (and index entries) visited by every iterator of this store since
  // open: lets tests prove a lookup touches keys proportional to its results.
  uint64_t iterator_steps() const { return iterator_steps_.load(); }

  const std::string& org() const { return options_.org; }
  // Escape hatch for components with their own column-family-free needs
  // (e.g. compaction, properties). Do not write to the store's column families.
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(ColumnFamily cf) const { return handles_[static_cast<int>(cf)]; }
  // Compacts every column family (runs the retention filters now).
  Status CompactAll();
  // Retention never drops an event record or its commit-order entry whose commit
  // index is above `commit_index` (the export's cursor: not exported yet).
  // Default: no hold (nothing waits for an export). Thread-safe.
  void SetRetentionHold(uint64_t commit_index) { retention_hold_.store(commit_index); }
  uint64_t retention_hold() const { return retention_hold_.load(); }

 private:
  EventStore(const std::string& path, const StoreOptions& options);
  Status OpenDb();
  Status LoadState();
  Status MigrateFormat(uint64_t from_version);
  Status StartIndexer();
  // Dedup decision for one event against the store. kNew, kDuplicate or kConflict
  // (existing_event_key set for the latter two).
  enum class DedupResult { kNew, kDuplicate, kConflict };
  StatusOr<DedupResult> CheckStored(std::string_view account_id, const v1::Event& event,
                                    std::string* existing_event_key) const;
  rocksdb::ReadOptions ReadOptionsFor(const rocksdb::Snapshot* snapshot) const;

  std::string path_;
  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::unique_ptr<rocksdb::CompactionFilter>> compaction_filters_;

  mutable std::mutex state_mu_;  // guards agents_ and listeners_
  std::map<std::string, AgentState, std::less<>> agents_;
  std::vector<CommitListener> listeners_;
  RecentEvents recent_events_;
  std::unique_ptr<EventIndexer> indexer_;  // stopped before the database closes
  std::atomic<uint64_t> last_commit_index_{0};
  std::atomic<uint64_t> events_stored_{0};
  std::atomic<uint64_t> conflicts_recorded_{0};
  std::atomic<uint64_t> refused_recorded_{0};
  std::atomic<uint64_t> identity_violations_recorded_{0};
  std::atomic<uint64_t> retention_hold_{UINT64_MAX};  // read by the retention filters
  mutable std::atomic<uint64_t> iterator_steps_{0};
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_STORE_H_
