// The agent's RocksDB spool (see spool.h).
#include "orgtrail/agent/spool.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include "sealed_handoff.h"
#include "spool_internal.h"

namespace orgtrail::agent {
namespace {

using spool_internal::DecodeU64;
using spool_internal::EncodeU64;
using spool_internal::FromRocks;

// Batches kept in memory for the stream (SealedHandoff): a few default batches (~650 KB each;
// the stream takes at most 4 per read).
constexpr size_t kHandoffBytes = 4 << 20;

constexpr char kPendingCf[] = "pending";
constexpr char kBatchesCf[] = "batches";
constexpr char kCheckpointsCf[] = "checkpoints";
constexpr char kStateCf[] = "state";
constexpr char kDeadLettersCf[] = "dead_letters";
constexpr char kQuarantineCf[] = "quarantine";

constexpr char kEpochKey[] = "epoch";
constexpr char kNextSequenceKey[] = "next_sequence";
constexpr char kLastBatchHashKey[] = "last_batch_hash";
constexpr char kSequenceConfirmedKey[] = "sequence_confirmed";
constexpr char kTrailConfigKey[] = "trail_config";

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StatusOr<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("spool path is empty");
  if (options.max_bytes == 0) return absl::InvalidArgumentError("spool max_bytes is 0");
  std::unique_ptr<Spool> spool(new Spool());
  spool->options_ = options;
  spool->handoff_ = std::make_unique<SealedHandoff>(kHandoffBytes);

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  if (options.env != nullptr) db_options.env = options.env;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.max_total_wal_size = 64 << 20;
  // Memory: the spool is a queue (events in, batches out, deleted once acknowledged), so small
  // memtables under one shared budget and a small cache keep the agent's RSS low.
  db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table_options.cache_index_and_filter_blocks = true;
  // CPU: XXH3 block checksums instead of CRC32C (Debian's portable RocksDB computes CRC32C in
  // software), and no compression: what reaches an SST file is a queue entry about to be
  // deleted. Measured on bench/run.sh's peer load, snappy and software CRC32C were ~20 % of the
  // agent's CPU (bench/README.md, "The agent's file path").
  table_options.checksum = rocksdb::kXXH3;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.compression = rocksdb::kNoCompression;
  cf_options.write_buffer_size = std::max<size_t>(1 << 20, options.memtable_budget_bytes / 2);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kPendingCf, kBatchesCf,
                           kCheckpointsCf, kStateCf, kDeadLettersCf, kQuarantineCf}) {
    descriptors.emplace_back(name, cf_options);
  }
  rocksdb::DB* raw = nullptr;
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options.path, descriptors, &spool->handles_, &raw), "open"));
  spool->db_.reset(raw);
  spool->pending_ = spool->handles_[1];
  spool->batches_ = spool->handles_[2];
  spool->checkpoints_ = spool->handles_[3];
  spool->state_cf_ = spool->handles_[4];
  spool->dead_letters_ = spool->handles_[5];
  spool->quarantine_ = spool->handles_[6];
  ORGTRAIL_RETURN_IF_ERROR(spool->LoadCounters());
  spool->last_ack_time_ = std::chrono::steady_clock::now();
  return spool;
}

Spool::~Spool() {
  if (db_) {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
  }
}

Status Spool::LoadCounters() {
  std::string value;
  const rocksdb::ReadOptions ro;
  auto st = db_->Get(ro, state_cf_, kEpochKey, &value);
  if (st.IsNotFound()) {
    fresh_ = true;
  } else {
    ORGTRAIL_RETURN_IF_ERROR(FromRocks(st, "read state"));
    state_.epoch = DecodeU64(value);
  }
  if (db_->Get(ro, state_cf_, kNextSequenceKey, &value).ok()) state_.next_sequence = DecodeU64(value);
  if (db_->Get(ro, state_cf_, kLastBatchHashKey, &value).ok() && value.size() == 32) {
    std::copy(value.begin(), value.end(), state_.last_batch_hash.begin());
  }
  state_.sequence_confirmed =
      db_->Get(ro, state_cf_, kSequenceConfirmedKey, &value).ok() && value == "1";

  const int64_t now = NowUs();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, pending_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const uint64_t id = DecodeU64(it->key());
    if (pending_events_ == 0) {
      pending_times_[id] = now;
      first_pending_id_ = id;
    }
    ++pending_events_;
    pending_bytes_ += it->value().size();
    next_pending_id_ = id + 1;
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "scan pending"));
  it.reset(db_->NewIterator(ro, batches_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const uint64_t seq = DecodeU64(it->key());
    sealed_sizes_[seq] = it->value().size();
    sealed_bytes_ += it->value().size();
    v1::Batch batch;
    if (batch.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      sealed_times_[seq] = batch.created_time_us();
    } else {
      sealed_times_[seq] = now;
    }
  }
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(it->status(), "scan batches"));
  it.reset(db_->NewIterator(ro, dead_letters_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++dead_letters_count_;
  it.reset(db_->NewIterator(ro, quarantine_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++quarantined_count_;
  return absl::OkStatus();
}

Status Spool::Write(void* write_batch) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  const rocksdb::Status s = db_->Write(wo, static_cast<rocksdb::WriteBatch*>(write_batch));
  // A failed write or sync leaves RocksDB in a sticky background error: every
  // later write fails until the database is reopened. Remember it (fail-stop).
  if (!s.ok() && !s.IsInvalidArgument()) failed_.store(true);
  return FromRocks(s, "write");
}

void Spool::PutState(void* write_batch, const AgentState& state) {
  auto* wb = static_cast<rocksdb::WriteBatch*>(write_batch);
  wb->Put(state_cf_, kEpochKey, EncodeU64(state.epoch));
  wb->Put(state_cf_, kNextSequenceKey, EncodeU64(state.next_sequence));
  wb->Put(state_cf_, kLastBatchHashKey, DigestToString(state.last_batch_hash));
  wb->Put(state_cf_, kSequenceConfirmedKey, state.sequence_confirmed ? "1" : "0");
}

bool Spool::HasRoomFor(uint64_t bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_bytes_ + sealed_bytes_ + bytes <= options_.max_bytes;
}

Status Spool::AppendEvents(const std::vector<v1::Event>& events,
                           const std::vector<SourceCheckpoint>& checkpoints) {
  std::lock_guard<std::mutex> append_lock(append_mu_);
  std::vector<std::string> values;
  values.reserve(events.size());
  uint64_t bytes = 0;
  for (const auto& event : events) {
    values.push_back(event.SerializeAsString());
    bytes += values.back().size();
  }
  uint64_t first_id;
  {
    // Counted before the write makes them visible: the batcher may seal (and uncount) them
    // as soon as the write returns, before this thread runs again.
    std::lock_guard<std::mutex> lock(mu_);
    if (!events.empty() && pending_bytes_ + sealed_bytes_ + bytes > options_.max_bytes) {
      return absl::ResourceExhaustedError(
          "spool full: " + std::to_string(pending_bytes_ + sealed_bytes_) + " of " +
          std::to_string(options_.max_bytes) + " bytes used; retry after the collector acknowledges");
    }
    first_id = next_pending_id_;
    if (!events.empty()) {
      pending_times_[first_id] = NowUs();
      next_pending_id_ = first_id + events.size();
      pending_events_ += events.size();
      pending_bytes_ += bytes;
    }
  }
  rocksdb::WriteBatch wb(bytes + 32 * (values.size() + checkpoints.size() + 4));
  for (size_t i = 0; i < values.size(); ++i) wb.Put(pending_, EncodeU64(first_id + i), values[i]);
  for (const auto& checkpoint : checkpoints) wb.Put(checkpoints_, checkpoint.key, checkpoint.value);
  if (Status written = Write(&wb); !written.ok()) {
    // Nothing became visible (the write failed; the spool fail-stops): take the count back.
    std::lock_guard<std::mutex> lock(mu_);
    pending_events_ -= std::min<uint64_t>(pending_events_, events.size());
    pending_bytes_ -= std::min<uint64_t>(pending_bytes_, bytes);
    if (!events.empty()) pending_times_.erase(first_id);
    if (pending_events_ == 0) pending_times_.clear();
    return written;
  }
  if (options_.test_after_append_write) options_.test_after_append_write();
  return absl::OkStatus();
}

StatusOr<std::optional<std::string>> Spool::GetCheckpoint(const std::string& key) const {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions(), checkpoints_, key, &value);
  if (st.IsNotFound()) return std::optional<std::string>();
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(st, "read checkpoint"));
  return std::optional<std::string>(std::move(value));
}

Status Spool::PutCheckpoint(const SourceCheckpoint& checkpoint) {
  return AppendEvents({}, {checkpoint});
}

Status Spool::Quarantine(const std::string& key, const std::string& reason) {
  rocksdb::WriteBatch wb;
  wb.Put(quarantine_, key, reason);
  std::string existing;
  const bool existed = db_->Get(rocksdb::ReadOptions(), quarantine_, key, &existing).ok();
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  if (!existed) {
    std::lock_guard<std::mutex> lock(mu_);
    ++quarantined_count_;
  }
  return absl::OkStatus();
}

StatusOr<std::optional<std::string>> Spool::GetQuarantine(const std::string& key) const {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions(), quarantine_, key, &value);
  if (st.IsNotFound()) return std::optional<std::string>();
  ORGTRAIL_RETURN_IF_ERROR(FromRocks(st, "read quarantine"));
  return std::optional<std::string>(std::move(value));
}

std::vector<std::pair<std::string, std::string>> Spool::ListQuarantine() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), quarantine_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  NoteIteratorStatus(it->status());
  return out;
}

std::vector<PendingEvent> Spool::ReadPending(size_t max_events, size_t max_bytes) const {
  std::vector<PendingEvent> out;
  size_t bytes = 0;
  // The queue's front is deleted batch by batch: starting at the first live id skips the
  // tombstones of every batch sealed so far (a scan from the start re-read and decompressed
  // them on each call, the agent's largest cost when it tails a large file).
  std::string first_key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first_key = EncodeU64(first_pending_id_);
  }
  const rocksdb::Slice lower_bound(first_key);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, pending_));
  for (it->Seek(lower_bound); it->Valid() && out.size() < max_events; it->Next()) {
    const size_t size = it->value().size();
    if (!out.empty() && bytes + size > max_bytes) break;
    PendingEvent pending;
    pending.id = DecodeU64(it->key());
    pending.stored_bytes = size;
    if (!pending.event.ParseFromArray(it->value().data(), static_cast<int>(size))) {
      // Unreadable entry (disk corruption): kept out of batches; the batcher
      // moves its bytes to the quarantine before the batch deletes it.
      pending.event.Clear();
      pending.unreadable = true;
      pending.stored_value.assign(it->value().data(), size);
    }
    bytes += size;
    out.push_back(std::move(pending));
  }
  NoteIteratorStatus(it->status());
  return out;
}

Status Spool::CommitSealedBatch(v1::Batch batch, const Digest& batch_hash,
                                const std::vector<uint64_t>& pending_ids,
                                uint64_t pending_bytes) {
  // A batch without events (every pending entry it read was unreadable and quarantined) is
  // not stored and uses no sequence number: only the pending entries go.
  const bool stored = batch.events_size() > 0;
  const std::string value = stored ? batch.SerializeAsString() : std::string();
  rocksdb::WriteBatch wb(value.size() + 32 * (pending_ids.size() + 8));
  const uint64_t freed = pending_bytes;
  for (uint64_t id : pending_ids) wb.Delete(pending_, EncodeU64(id));
  AgentState new_state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    new_state = state_;
  }
  if (stored) {
    wb.Put(batches_, EncodeU64(batch.sequence()), value);
    new_state.next_sequence = batch.sequence() + 1;
    new_state.last_batch_hash = batch_hash;
    PutState(&wb, new_state);
  }
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  state_ = new_state;
  if (!pending_ids.empty()) first_pending_id_ = std::max(first_pending_id_, pending_ids.back() + 1);
  pending_events_ -= std::min<uint64_t>(pending_events_, pending_ids.size());
  pending_bytes_ -= std::min<uint64_t>(pending_bytes_, freed);
  if (!pending_ids.empty() && !pending_times_.empty()) {
    // pending_times_ maps the first id of each append to its time: the next
    // remaining event (last + 1) was appended at the time of the greatest
    // key <= last + 1.
    const uint64_t last = pending_ids.back();
    auto next = pending_times_.upper_bound(last + 1);
    const bool had_entry = next != pending_times_.begin();
    const int64_t next_time = had_entry ? std::prev(next)->second : NowUs();
    pending_times_.erase(pending_times_.begin(), next);
    if (pending_events_ > 0 && had_entry) pending_times_[last + 1] = next_time;
  }
  if (pending_events_ == 0) {
    pending_bytes_ = 0;
    pending_times_.clear();
  }
  if (!stored) return absl::OkStatus();
  // Handed off before the stream can see it in sealed_sizes_, so the stream takes it from memory.
  const uint64_t sequence = batch.sequence();
  const int64_t created = batch.created_time_us();
  handoff_->Put(std::move(batch), value.size());
  sealed_sizes_[sequence] = value.size();
  sealed_times_[sequence] = created;
  sealed_bytes_ += value.size();
  return absl::OkStatus();
}

Status Spool::CommitDirectBatches(std::vector<v1::Batch>* batches_in, const Digest& last_batch_hash,
                                  const std::vector<SourceCheckpoint>& checkpoints) {
  std::vector<v1::Batch>& batches = *batches_in;
  if (batches.empty()) return absl::InvalidArgumentError("CommitDirectBatches: no batches");
  std::vector<std::string> values;
  uint64_t bytes = 0;
  for (const auto& batch : batches) {
    values.push_back(batch.SerializeAsString());
    bytes += values.back().size();
  }
  // Sized once: a growing WriteBatch re-copies its whole buffer at every doubling.
  rocksdb::WriteBatch wb(bytes + 64 * (batches.size() + checkpoints.size() + 8));
  struct Stored {
    uint64_t sequence;
    int64_t created_time_us;
    uint64_t bytes;
  };
  std::vector<Stored> stored;
  for (size_t i = 0; i < batches.size(); ++i) {
    wb.Put(batches_, EncodeU64(batches[i].sequence()), values[i]);
    stored.push_back({batches[i].sequence(), batches[i].created_time_us(), values[i].size()});
  }
  values.clear();
  for (const auto& checkpoint : checkpoints) wb.Put(checkpoints_, checkpoint.key, checkpoint.value);
  AgentState new_state;
  {
    // Their bytes are counted before the write, as AppendEvents counts pending events: a
    // concurrent append sees the room these batches take. They join sealed_sizes_ (which the
    // stream watches) only once written and handed off, so the stream takes them from memory.
    std::lock_guard<std::mutex> lock(mu_);
    if (batches.front().sequence() != state_.next_sequence) {
      return absl::InvalidArgumentError("CommitDirectBatches: sequence " +
                                        std::to_string(batches.front().sequence()) + " does not continue the chain at " +
                                        std::to_string(state_.next_sequence));
    }
    if (pending_bytes_ + sealed_bytes_ + bytes > options_.max_bytes) {
      return absl::ResourceExhaustedError(
          "spool full: " + std::to_string(pending_bytes_ + sealed_bytes_) + " of " +
          std::to_string(options_.max_bytes) + " bytes used; retry after the collector acknowledges");
    }
    sealed_bytes_ += bytes;
    new_state = state_;
  }
  new_state.next_sequence = batches.back().sequence() + 1;
  new_state.last_batch_hash = last_batch_hash;
  PutState(&wb, new_state);
  if (Status written = Write(&wb); !written.ok()) {
    // Nothing became visible (the spool fail-stops): take the count back.
    std::lock_guard<std::mutex> lock(mu_);
    sealed_bytes_ -= std::min(sealed_bytes_, bytes);
    return written;
  }
  for (size_t i = 0; i < batches.size(); ++i) handoff_->Put(std::move(batches[i]), stored[i].bytes);
  batches.clear();
  std::lock_guard<std::mutex> lock(mu_);
  state_ = new_state;
  for (const Stored& s : stored) {
    sealed_sizes_[s.sequence] = s.bytes;
    sealed_times_[s.sequence] = s.created_time_us;
  }
  return absl::OkStatus();
}

Status Spool::ReplaceBatch(const v1::Batch& batch) {
  const std::string value = batch.SerializeAsString();
  handoff_->Drop(batch.sequence());  // the stream must not take the old signature from memory
  rocksdb::WriteBatch wb;
  wb.Put(batches_, EncodeU64(batch.sequence()), value);
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sealed_sizes_.find(batch.sequence());
  if (it != sealed_sizes_.end()) {
    sealed_bytes_ -= it->second;
    it->second = value.size();
    sealed_bytes_ += value.size();
  }
  return absl::OkStatus();
}

std::vector<v1::Batch> Spool::ReadBatchesFrom(uint64_t first_sequence, size_t max_batches) {
  std::vector<v1::Batch> out = handoff_->Take(first_sequence, max_batches);
  if (!out.empty()) return out;
  std::vector<uint64_t> unreadable;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), batches_));
  for (it->Seek(EncodeU64(first_sequence)); it->Valid() && out.size() < max_batches; it->Next()) {
    v1::Batch batch;
    if (!batch.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      unreadable.push_back(DecodeU64(it->key()));
      continue;
    }
    out.push_back(std::move(batch));
  }
  NoteIteratorStatus(it->status());
  for (uint64_t sequence : unreadable) {
    // Kept byte for byte in the dead letters; a failed move leaves it in place (and
    // the write failure fail-stops the agent), so it is never silently dropped.
    (void)DeadLetter(sequence, "unreadable_spool_entry: the stored batch bytes do not parse (disk corruption)");
  }
  return out;
}

void Spool::NoteIteratorStatus(const rocksdb::Status& status) const {
  // An iterator stops early on an I/O error or corruption; what it returned is
  // then incomplete. Fail-stop like a failed write: RocksDB re-checks at reopen.
  if (!status.ok()) failed_.store(true);
}

std::optional<v1::Batch> Spool::ReadBatch(uint64_t sequence) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), batches_, EncodeU64(sequence), &value).ok()) {
    return std::nullopt;
  }
  v1::Batch batch;
  if (!batch.ParseFromString(value)) return std::nullopt;
  return batch;
}

Status Spool::PruneThrough(uint64_t sequence) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sealed_sizes_.empty() || sealed_sizes_.begin()->first > sequence) return absl::OkStatus();
  }
  handoff_->DropThrough(sequence);
  rocksdb::WriteBatch wb;
  wb.DeleteRange(batches_, EncodeU64(0), EncodeU64(sequence + 1));
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  auto end = sealed_sizes_.upper_bound(sequence);
  for (auto it = sealed_sizes_.begin(); it != end; ++it) sealed_bytes_ -= it->second;
  sealed_sizes_.erase(sealed_sizes_.begin(), end);
  sealed_times_.erase(sealed_times_.begin(), sealed_times_.upper_bound(sequence));
  last_ack_time_ = std::chrono::steady_clock::now();
  backlog_shrank_.notify_all();
  return absl::OkStatus();
}

Status Spool::ReplaceAllBatches(const std::vector<v1::Batch>& new_batches, uint64_t next_sequence,
                                const Digest& last_batch_hash) {
  handoff_->Clear();
  rocksdb::WriteBatch wb;
  wb.DeleteRange(batches_, EncodeU64(0), std::string(8, '\xff'));
  wb.Delete(batches_, std::string(8, '\xff'));
  std::map<uint64_t, uint64_t> sizes;
  std::map<uint64_t, int64_t> times;
  uint64_t total = 0;
  for (const auto& batch : new_batches) {
    const std::string value = batch.SerializeAsString();
    wb.Put(batches_, EncodeU64(batch.sequence()), value);
    sizes[batch.sequence()] = value.size();
    times[batch.sequence()] = batch.created_time_us();
    total += value.size();
  }
  AgentState new_state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    new_state = state_;
  }
  new_state.next_sequence = next_sequence;
  new_state.last_batch_hash = last_batch_hash;
  new_state.sequence_confirmed = true;
  PutState(&wb, new_state);
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  state_ = new_state;
  sealed_sizes_ = std::move(sizes);
  sealed_times_ = std::move(times);
  sealed_bytes_ = total;
  return absl::OkStatus();
}

AgentState Spool::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

StatusOr<uint64_t> Spool::BumpEpoch() {
  AgentState new_state = state();
  new_state.epoch += 1;
  rocksdb::WriteBatch wb;
  PutState(&wb, new_state);
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  state_.epoch = new_state.epoch;
  return new_state.epoch;
}

Status Spool::SetSequencePosition(uint64_t next_sequence, const Digest& last_batch_hash) {
  AgentState new_state = state();
  new_state.next_sequence = next_sequence;
  new_state.last_batch_hash = last_batch_hash;
  new_state.sequence_confirmed = true;
  rocksdb::WriteBatch wb;
  PutState(&wb, new_state);
  ORGTRAIL_RETURN_IF_ERROR(Write(&wb));
  std::lock_guard<std::mutex> lock(mu_);
  state_ = new_state;
  return absl::OkStatus();
}

Status Spool::PutTrailConfig(const v1::TrailConfig& config) {
  rocksdb::WriteBatch wb;
  wb.Put(state_cf_, kTrailConfigKey, config.SerializeAsString());
  return Write(&wb);
}

std::optional<v1::TrailConfig> Spool::GetTrailConfig() const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), state_cf_, kTrailConfigKey, &value).ok()) {
    return std::nullopt;
  }
  v1::TrailConfig config;
  if (!config.ParseFromString(value)) return std::nullopt;
  return config;
}

SpoolStats Spool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SpoolStats stats;
  stats.pending_events = pending_events_;
  stats.pending_bytes = pending_bytes_;
  stats.sealed_batches = sealed_sizes_.size();
  stats.sealed_bytes = sealed_bytes_;
  stats.dead_letters = dead_letters_count_;
  stats.quarantined = quarantined_count_;
  stats.max_bytes = options_.max_bytes;
  if (!sealed_sizes_.empty()) {
    stats.lowest_sealed_sequence = sealed_sizes_.begin()->first;
    stats.highest_sealed_sequence = sealed_sizes_.rbegin()->first;
  }
  return stats;
}

int64_t Spool::OldestAgeMicros(int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t oldest = now_us;
  if (!pending_times_.empty()) oldest = std::min(oldest, pending_times_.begin()->second);
  if (!sealed_times_.empty()) oldest = std::min(oldest, sealed_times_.begin()->second);
  return now_us - oldest;
}

int64_t Spool::OldestPendingAgeMicros(int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_events_ == 0 || pending_times_.empty()) return 0;
  return now_us - pending_times_.begin()->second;
}

}  // namespace orgtrail::agent
