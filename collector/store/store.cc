#include "collector/store/store.h"

#include <set>
#include <unordered_map>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include "orgtrail/common/time_util.h"
#include "collector/store/store_insert_hints.h"
#include "collector/store/store_internal.h"

namespace orgtrail::collector {
namespace {

using store_internal::FromRocks;
using store_internal::TimeSource;

constexpr std::string_view kColumnFamilyNames[kColumnFamilyCount] = {
    "events", "event_ids", "idx", "commits", "provenance", "certs", "metadata", "conflicts", "refused"};

}  // namespace

std::string_view ColumnFamilyName(ColumnFamily cf) { return kColumnFamilyNames[static_cast<int>(cf)]; }

EventStore::EventStore(const std::string& path, const StoreOptions& options)
    : path_(path), options_(options), recent_events_(options.recent_events_bytes) {
  if (options_.hold_retention_until_exported) retention_hold_.store(0);
}

EventStore::~EventStore() {
  if (indexer_) indexer_->Stop();  // indexes what was committed, then no more reads
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    db_.reset();
  }
}

StatusOr<std::unique_ptr<EventStore>> EventStore::Open(const std::string& path, const StoreOptions& options) {
  if (options.org.empty()) return absl::InvalidArgumentError("EventStore: org (trust domain) is empty");
  if (options.retention_us < 0) return absl::InvalidArgumentError("EventStore: negative retention");
  std::unique_ptr<EventStore> store(new EventStore(path, options));
  ORGTRAIL_RETURN_IF_ERROR(store->OpenDb());
  ORGTRAIL_RETURN_IF_ERROR(store->LoadState());
  ORGTRAIL_RETURN_IF_ERROR(store->StartIndexer());
  return store;
}

Status EventStore::StartIndexer() {
  std::string cursor;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), handle(ColumnFamily::kIndex), kIndexCursorKey, &cursor);
  if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read the index cursor");
  const uint64_t last = last_commit_index_.load();
  uint64_t through = last;
  if (got.ok()) {
    std::string_view in = cursor;
    if (!GetFixed64BE(&in, &through)) return absl::DataLossError("undecodable index cursor");
  } else {
    // A new store, or one written before the indexer: those indexed each event in its commit.
    PutFixed64BE(&cursor, through);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ORGTRAIL_RETURN_IF_ERROR(FromRocks(db_->Put(wo, handle(ColumnFamily::kIndex), kIndexCursorKey, cursor),
                                       "write the index cursor"));
  }
  EventIndexer::Options indexer_options;
  indexer_options.queue_bytes = options_.index_queue_bytes;
  indexer_ = std::make_unique<EventIndexer>(this, indexer_options);
  indexer_->Start(std::min(through, last), last);
  return Status();
}

bool EventStore::WaitForIndex(std::chrono::milliseconds max_wait) const {
  return indexer_->WaitIndexed(last_commit_index_.load(), max_wait);
}

std::unique_ptr<StoreSnapshot> EventStore::NewIndexedSnapshot() const {
  WaitForIndex(std::chrono::milliseconds(options_.index_wait_ms));
  return NewSnapshot();
}

Status EventStore::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options_.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Flushes and compactions start writing their files back every MiB (sync_file_range) instead
  // of leaving them dirty until their final sync: the acknowledged path's WAL fdatasync (ext4
  // journal commits) then waits behind less of their data. At 20k events/s over a 400k-event
  // store, 5 alternating rounds: visible p99 median 195 -> 140 ms, durable p99 86 -> 73 ms;
  // 2 later rounds, on a noisier machine, were mixed (bench/README.md, "Issue 16, session of
  // 2026-12-08").
  db_options.bytes_per_sync = 1 << 20;
  db_options.paranoid_checks = true;
  // One committer thread writes the records: memtable inserts are serial, which is what lets
  // them use per-prefix insert hints (store_insert_hints.h).
  db_options.allow_concurrent_memtable_write = false;
  if (options_.env != nullptr) db_options.env = options_.env;
  // Compactions (RocksDB's LOW pool) yield the cores to the acknowledged path under load, as the
  // export does (orgtrail/common/thread_role.h); flushes (HIGH) keep their priority, since a
  // memtable that cannot flush stalls writes. The pool belongs to the Env (the process's default
  // one unless a test passes its own), so this is a property of the process, set again by every
  // open with the same value.
  db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);

  auto block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options_.memtable_budget_bytes);
  // Bloom filters only where the store does point lookups (Get); `idx` and `commits` are only
  // ever iterated, and their filters would cost memory and flush CPU for nothing.
  // Index and filter blocks stay with the table readers, not in the cache: charged to a 64 MiB
  // cache they thrashed at 10M events (record fetches kept re-reading evicted index and filter
  // blocks; lookup_bench p50 went from sub-ms to 7-95 ms). Their memory grows with the store:
  // Bloom filters (10 bits per key on `events` and `event_ids`) and block indexes.
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = block_cache;
  // XXH3 block checksums for the SST files flushes and compactions write: Debian's portable
  // RocksDB computes CRC32C in software (the WAL must keep CRC32C). Files written before keep
  // theirs; readers handle both.
  table_options.checksum = rocksdb::kXXH3;
  // Block-index entries share their key prefixes (partition, time): a restart point every 16
  // entries instead of every one prefix-compresses them. At 1M events the records' block index
  // went from 11.5 to 2.7 MiB and the index entries' from 4.3 to under 1 MiB (lookup_bench), and
  // at 10M events these indexes were most of the collector's resident memory. A point read scans
  // at most 15 entries after its binary search.
  table_options.index_block_restart_interval = 16;
  rocksdb::BlockBasedTableOptions filtered_options = table_options;
  filtered_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  auto filtered_tables = std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(filtered_options));
  auto plain_tables = std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = options_.write_buffer_bytes;
    // LZ4 rather than RocksDB's default Snappy: about the same size on CloudTrail JSON, less CPU
    // in the flushes and compactions that share the cores with ingest (bench/README.md).
    cf_options.compression = rocksdb::kLZ4Compression;
    auto cf = static_cast<ColumnFamily>(i);
    const bool iterated_only = cf == ColumnFamily::kIndex || cf == ColumnFamily::kCommits ||
                               cf == ColumnFamily::kConflicts || cf == ColumnFamily::kRefused;
    cf_options.table_factory = iterated_only ? plain_tables : filtered_tables;
    if (cf == ColumnFamily::kEvents) cf_options.memtable_insert_with_hint_prefix_extractor = NewPartitionHintExtractor();
    if (cf == ColumnFamily::kIndex) cf_options.memtable_insert_with_hint_prefix_extractor = NewIndexListHintExtractor();
    if (cf == ColumnFamily::kCommits) cf_options.memtable_insert_with_hint_prefix_extractor = NewSingleHintExtractor();
    if (cf == ColumnFamily::kMetadata) cf_options.memtable_insert_with_hint_prefix_extractor = NewPathHintExtractor();
    if (options_.retention_us > 0) {
      std::optional<TimeSource> source;
      if (cf == ColumnFamily::kEvents) source = TimeSource::kEventKey;
      if (cf == ColumnFamily::kIndex) source = TimeSource::kIndexKey;
      if (cf == ColumnFamily::kEventIds || cf == ColumnFamily::kCommits) source = TimeSource::kValueIsEventKey;
      // The records (events) and the commit order that the export follows (commits) are
      // held until exported; the indexes and dedup entries go by age alone (ingest
      // refuses events older than the retention, so a dropped dedup entry cannot let
      // an event be stored again).
      store_internal::CommitSource commit = store_internal::CommitSource::kNone;
      if (cf == ColumnFamily::kEvents) commit = store_internal::CommitSource::kEventValue;
      if (cf == ColumnFamily::kCommits) commit = store_internal::CommitSource::kCommitKey;
      if (source) {
        compaction_filters_.push_back(
            store_internal::NewRetentionFilter(*source, options_.retention_us, commit, &retention_hold_));
        cf_options.compaction_filter = compaction_filters_.back().get();
      }
    }
    descriptors.emplace_back(std::string(kColumnFamilyNames[i]), cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path_, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "open " + path_);
  db_.reset(raw);
  // handles[0] is the default column family (unused): keep it for cleanup at the end.
  handles_.assign(handles.begin() + 1, handles.end());
  handles_.push_back(handles[0]);
  return Status();
}

rocksdb::ReadOptions EventStore::ReadOptionsFor(const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  return ro;
}

Status EventStore::LoadState() {
  auto agents = ScanMetadata(kAgentStatePrefix);
  if (!agents.ok()) return agents.status();
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const auto& [key, value] : *agents) {
    AgentState state;
    if (!DecodeAgentState(value, &state)) return absl::DataLossError("undecodable agent state " + key);
    state.agent_id = key.substr(kAgentStatePrefix.size());
    agents_[state.agent_id] = state;
  }
  for (auto [key, target] : {std::pair{kLastCommitIndexKey, &last_commit_index_},
                             std::pair{kEventsStoredKey, &events_stored_},
                             std::pair{kConflictsRecordedKey, &conflicts_recorded_},
                             std::pair{kRefusedRecordedKey, &refused_recorded_},
                             std::pair{kIdentityViolationsKey, &identity_violations_recorded_}}) {
    auto value = GetMetadata(key);
    if (!value.ok()) return value.status();
    if (!value->has_value()) continue;
    std::string_view in = **value;
    uint64_t v;
    if (!GetFixed64BE(&in, &v)) return absl::DataLossError("undecodable metadata " + std::string(key));
    target->store(v);
  }
  auto format = GetMetadata(kFormatVersionKey);
  if (!format.ok()) return format.status();
  uint64_t version = kStoreFormatVersion;
  if (format->has_value()) {
    std::string_view in = **format;
    if (!GetFixed64BE(&in, &version)) return absl::DataLossError("undecodable store format version");
    if (version > kStoreFormatVersion) {
      return absl::FailedPreconditionError("store format version " + std::to_string(version) +
                                           " is newer than this collector's (" +
                                           std::to_string(kStoreFormatVersion) + "): upgrade the collector");
    }
    if (version < kStoreFormatVersion) ORGTRAIL_RETURN_IF_ERROR(MigrateFormat(version));
  }
  std::string v;
  PutFixed64BE(&v, kStoreFormatVersion);
  return WriteMetadata({{std::string(kFormatVersionKey), v}});
}

StatusOr<GroupCommitResult> EventStore::CommitGroup(const std::vector<const IngestBatch*>& batches) {
  GroupCommitResult result;
  result.outcomes.resize(batches.size());
  std::map<std::string, AgentState, std::less<>> touched;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (const IngestBatch* b : batches) {
      auto it = agents_.find(b->agent_id);
      if (it != agents_.end()) touched.emplace(b->agent_id, it->second);
    }
  }
  rocksdb::WriteBatch wb;
  rocksdb::WriteBatch index_entries;  // written behind the ack (event_indexer.h)
  struct GroupEntry {
    const std::string* raw_json;  // owned by the batch, which outlives the call
    std::string event_key;
  };
  std::unordered_map<std::string, GroupEntry> group_ids;  // EncodeEventIdKey -> first copy in this group
  uint64_t next_index = last_commit_index_.load() + 1;
  std::vector<RecentEvents::Entry> recent;  // the stored events, in commit order
  const uint64_t first_index = next_index;

  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const IngestBatch& b = *batches[bi];
    BatchOutcome& out = result.outcomes[bi];
    auto [it, inserted] = touched.try_emplace(b.agent_id);
    AgentState& state = it->second;
    if (inserted) {
      state.agent_id = b.agent_id;
      state.account_id = b.account_id;
      state.region = b.region;
    }
    if (b.sequence <= state.high_water_sequence) {
      out.replay = true;
      out.ack_sequence = state.high_water_sequence;
      continue;
    }
    out.chain_break = state.high_water_sequence != 0 && b.prev_batch_hash != state.last_batch_hash;
    for (const IngestEvent& ie : b.events) {
      const v1::Event& e = ie.event;
      const std::string& id = e.event_id();
      std::string id_key = EncodeEventIdKey(id, b.account_id);
      DedupResult dedup = DedupResult::kNew;
      std::string existing_key;
      if (auto in_group = group_ids.find(id_key); in_group != group_ids.end()) {
        dedup = *in_group->second.raw_json == e.raw_json() ? DedupResult::kDuplicate : DedupResult::kConflict;
        existing_key = in_group->second.event_key;
      } else {
        auto stored = CheckStored(b.account_id, e, &existing_key);
        if (!stored.ok()) return stored.status();
        dedup = *stored;
      }
      if (dedup == DedupResult::kDuplicate) {
        ++out.events_duplicate;
        continue;
      }
      if (dedup == DedupResult::kConflict) {
        ConflictRecord conflict;
        conflict.account_id = b.account_id;
        conflict.event_id = id;
        conflict.agent_id = b.agent_id;
        conflict.sequence = b.sequence;
        conflict.leaf_index = ie.leaf_index;
        conflict.receipt_time_us = b.receipt_time_us;
        conflict.existing_event_key = std::move(existing_key);
        conflict.raw_json = e.raw_json();
        wb.Put(handle(ColumnFamily::kConflicts),
               EncodeConflictKey(b.account_id, id, b.agent_id, b.sequence, ie.leaf_index),
               EncodeConflictValue(conflict));
        result.conflicts.push_back(std::move(conflict));
        ++out.events_conflict;
        continue;
      }
      const uint64_t commit_index = next_index++;
      EventKey key{options_.org, b.account_id, ie.partition_region, e.event_time_us(), id};
      std::string event_key = EncodeEventKey(key);
      group_ids.emplace(id_key, GroupEntry{&e.raw_json(), event_key});
      v1::StoredEventMeta meta;
      meta.set_receipt_time_us(b.receipt_time_us);
      meta.set_agent_id(b.agent_id);
      meta.set_batch_sequence(b.sequence);
      meta.set_batch_epoch(b.epoch);
      meta.set_leaf_index(ie.leaf_index);
      meta.set_partition_account_id(b.account_id);
      meta.set_partition_region(ie.partition_region);
      meta.set_commit_index(commit_index);
      std::string value = EncodeEventValue(meta, e.raw_json());
      wb.Put(handle(ColumnFamily::kEvents), event_key, value);
      if (options_.recent_events_bytes > 0) {
        recent.push_back(RecentEvents::Entry{commit_index, event_key, std::move(value)});
      }
      wb.Put(handle(ColumnFamily::kEventIds), id_key, event_key);
      wb.Put(handle(ColumnFamily::kCommits), EncodeCommitKey(commit_index), event_key);
      AddIndexEntries(e, b.account_id, ie.partition_region, handle(ColumnFamily::kIndex), &index_entries);
      ++out.events_stored;
    }
    for (const RefusedEvent& re : b.refused) {
      RefusedRecord record;
      record.agent_id = b.agent_id;
      record.sequence = b.sequence;
      record.leaf_index = re.leaf_index;
      record.account_id = b.account_id;
      record.region = b.region;
      record.event_id = re.event_id;
      record.rule = re.rule;
      record.message = re.message;
      record.identity_violation = re.identity_violation;
      record.receipt_time_us = b.receipt_time_us;
      if (re.leaf_index < b.leaf_hashes.size()) record.leaf_hash = b.leaf_hashes[re.leaf_index];
      record.raw_json_dropped = state.events_refused >= options_.max_refused_per_agent;
      if (!record.raw_json_dropped) record.raw_json = re.raw_json;
      wb.Put(handle(ColumnFamily::kRefused), EncodeRefusedKey(b.agent_id, b.sequence, re.leaf_index),
             EncodeRefusedValue(record));
      record.raw_json.clear();
      result.refused.push_back(std::move(record));
      ++state.events_refused;
      ++out.events_refused;
    }
    ProvenanceRecord prov;
    prov.agent_id = b.agent_id;
    prov.sequence = b.sequence;
    prov.signed_header = b.signed_header;
    prov.signature = b.signature;
    prov.signature_algorithm = b.signature_algorithm;
    prov.certificate_sha256 = b.certificate_sha256;
    prov.merkle_root = b.merkle_root;
    prov.leaf_hashes = b.leaf_hashes;
    prov.receipt_time_us = b.receipt_time_us;
    wb.Put(handle(ColumnFamily::kProvenance), EncodeProvenanceKey(b.agent_id, b.sequence),
           EncodeProvenanceValue(prov));
    if (!b.certificate_pem.empty()) {
      wb.Put(handle(ColumnFamily::kCerts), DigestToString(b.certificate_sha256), b.certificate_pem);
    }
    state.high_water_sequence = b.sequence;
    state.last_batch_hash = b.batch_hash;
    state.epoch = b.epoch;
    state.last_seen_us = b.receipt_time_us;
    state.events_stored += out.events_stored;
    state.events_duplicate += out.events_duplicate;
    state.batches_stored += 1;
    wb.Put(handle(ColumnFamily::kMetadata), AgentStateKey(b.agent_id), EncodeAgentState(state));
    out.ack_sequence = b.sequence;
    result.events_stored += out.events_stored;
  }
  if (wb.Count() == 0) return result;  // replays only: nothing to write

  const uint64_t last_index = next_index - 1;
  std::string last_bytes, stored_bytes;
  PutFixed64BE(&last_bytes, last_index);
  PutFixed64BE(&stored_bytes, events_stored_.load() + result.events_stored);
  wb.Put(handle(ColumnFamily::kMetadata), kLastCommitIndexKey, last_bytes);
  wb.Put(handle(ColumnFamily::kMetadata), kEventsStoredKey, stored_bytes);
  if (!result.conflicts.empty()) {
    std::string conflicts_bytes;
    PutFixed64BE(&conflicts_bytes, conflicts_recorded_.load() + result.conflicts.size());
    wb.Put(handle(ColumnFamily::kMetadata), kConflictsRecordedKey, conflicts_bytes);
  }
  uint64_t violations = 0;
  for (const RefusedRecord& r : result.refused) violations += r.identity_violation ? 1 : 0;
  if (!result.refused.empty()) {
    std::string refused_bytes, violations_bytes;
    PutFixed64BE(&refused_bytes, refused_recorded_.load() + result.refused.size());
    wb.Put(handle(ColumnFamily::kMetadata), kRefusedRecordedKey, refused_bytes);
    PutFixed64BE(&violations_bytes, identity_violations_recorded_.load() + violations);
    wb.Put(handle(ColumnFamily::kMetadata), kIdentityViolationsKey, violations_bytes);
  }
  result.write_batch_bytes = wb.GetDataSize();

  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status ws = db_->Write(wo, &wb);
  if (!ws.ok()) return FromRocks(ws, "synced group commit");
  recent_events_.Append(std::move(recent));  // before the listeners wake the followers
  if (result.events_stored > 0) indexer_->Submit(first_index, last_index, std::move(index_entries));

  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (auto& [id, state] : touched) agents_[id] = state;
  }
  last_commit_index_.store(last_index);
  events_stored_.fetch_add(result.events_stored);
  conflicts_recorded_.fetch_add(result.conflicts.size());
  refused_recorded_.fetch_add(result.refused.size());
  identity_violations_recorded_.fetch_add(violations);
  if (last_index >= first_index) {
    result.first_commit_index = first_index;
    result.last_commit_index = last_index;
    std::vector<CommitListener> listeners;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      listeners = listeners_;
    }
    for (auto& listener : listeners) listener(first_index, last_index);
  }
  return result;
}

Status EventStore::WriteMetadata(const std::vector<MetadataEntry>& entries, Durability durability) {
  rocksdb::WriteBatch wb;
  for (const auto& [key, value] : entries) {
    if (value.has_value()) {
      wb.Put(handle(ColumnFamily::kMetadata), key, *value);
    } else {
      wb.Delete(handle(ColumnFamily::kMetadata), key);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSynced;
  return FromRocks(db_->Write(wo, &wb), "metadata write");
}

void EventStore::AddCommitListener(CommitListener listener) {
  std::lock_guard<std::mutex> lock(state_mu_);
  listeners_.push_back(std::move(listener));
}

StatusOr<EventStore::DedupResult> EventStore::CheckStored(std::string_view account_id, const v1::Event& event,
                                                          std::string* existing_event_key) const {
  rocksdb::ReadOptions ro;
  rocksdb::Status gs = db_->Get(ro, handle(ColumnFamily::kEventIds), EncodeEventIdKey(event.event_id(), account_id),
                                existing_event_key);
  if (gs.IsNotFound()) return DedupResult::kNew;
  if (!gs.ok()) return FromRocks(gs, "dedup lookup");
  // Stored before: compare the bytes (same bytes = same leaf hash).
  auto stored = GetEventByKey(*existing_event_key);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return absl::DataLossError("event_ids entry without its record");
  return (*stored)->raw_json == event.raw_json() ? DedupResult::kDuplicate : DedupResult::kConflict;
}

StatusOr<std::optional<ProvenanceRecord>> EventStore::GetProvenance(std::string_view agent_id, uint64_t sequence,
                                                                    const rocksdb::Snapshot* snapshot) const {
  std::string value;
  rocksdb::Status s = db_->Get(ReadOptionsFor(snapshot), handle(ColumnFamily::kProvenance),
                               EncodeProvenanceKey(agent_id, sequence), &value);
  if (s.IsNotFound()) return std::optional<ProvenanceRecord>();
  if (!s.ok()) return FromRocks(s, "provenance lookup");
  ProvenanceRecord record;
  if (!DecodeProvenanceValue(value, &record)) return absl::DataLossError("undecodable provenance record");
  record.agent_id.assign(agent_id.data(), agent_id.size());
  record.sequence = sequence;
  return std::optional<ProvenanceRecord>(std::move(record));
}

StatusOr<std::optional<std::string>> EventStore::GetCertificatePem(const Digest& certificate_sha256) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(ColumnFamily::kCerts),
                               DigestToString(certificate_sha256), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "certs lookup");
  return std::optional<std::string>(std::move(value));
}

StatusOr<std::optional<std::string>> EventStore::GetMetadata(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handle(ColumnFamily::kMetadata),
                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "metadata lookup");
  return std::optional<std::string>(std::move(value));
}

StatusOr<std::vector<std::pair<std::string, std::string>>> EventStore::ScanMetadata(std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(ColumnFamily::kMetadata)));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "metadata scan"));
  return out;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> EventStore::ScanMetadataFrom(
    std::string_view prefix, std::string_view start_key, size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(ColumnFamily::kMetadata)));
  rocksdb::Slice p(prefix.data(), prefix.size());
  const std::string_view start = start_key < prefix ? prefix : start_key;
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && it->key().starts_with(p) && out.size() < limit;
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "metadata scan"));
  return out;
}

std::unique_ptr<EventIndexIterator> EventStore::NewIndexIterator(IndexKind kind, std::string_view value,
                                                                 int64_t start_us, int64_t end_us,
                                                                 const rocksdb::Snapshot* snapshot) const {
  if (snapshot == nullptr) WaitForIndex(std::chrono::milliseconds(options_.index_wait_ms));
  // Every category: the management entries and the others (STORAGE.md, `idx`), merged.
  std::vector<std::unique_ptr<EventIndexIterator>> classes;
  std::string kind_bytes;
  for (bool other_category : {false, true}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOptionsFor(snapshot), handle(ColumnFamily::kIndex)));
    std::string prefix = EncodeIndexPrefix(kind, value, other_category);
    kind_bytes.push_back(prefix[0]);
    classes.push_back(store_internal::NewPrefixTimeIterator(std::move(it), std::move(prefix), true, options_.org,
                                                            start_us, end_us, &iterator_steps_));
  }
  return store_internal::NewCategoryMergeIterator(std::move(classes), std::move(kind_bytes));
}

std::unique_ptr<EventIndexIterator> EventStore::NewPartitionIterator(std::string_view account_id,
                                                                     std::string_view region, int64_t start_us,
                                                                     int64_t end_us,
                                                                     const rocksdb::Snapshot* snapshot) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOptionsFor(snapshot), handle(ColumnFamily::kEvents)));
  return store_internal::NewPrefixTimeIterator(std::move(it), EncodePartitionPrefix(options_.org, account_id, region),
                                              false, std::string(), start_us, end_us, &iterator_steps_);
}

std::unique_ptr<CommitIterator> EventStore::NewCommitIterator(uint64_t first_commit_index,
                                                              const rocksdb::Snapshot* snapshot) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ReadOptionsFor(snapshot), handle(ColumnFamily::kCommits)));
  return store_internal::NewCommitIteratorAt(std::move(it), first_commit_index, &iterator_steps_);
}

std::optional<AgentState> EventStore::GetAgentState(std::string_view agent_id) const {
  std::lock_guard<std::mutex> lock(state_mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end()) return std::nullopt;
  return it->second;
}

std::vector<AgentState> EventStore::ListAgentStates() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  std::vector<AgentState> out;
  for (const auto& [id, state] : agents_) out.push_back(state);
  return out;
}

Status EventStore::CompactAll() {
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ORGTRAIL_RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, handles_[i], nullptr, nullptr), "compaction"));
  }
  return Status();
}

}  // namespace orgtrail::collector
