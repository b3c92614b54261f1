// Batcher: cut, seal once, commit; sequence reconciliation (see batcher.h).
#include "orgtrail/agent/batcher.h"

#include <algorithm>
#include <chrono>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::agent {
namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Batcher::Batcher(Spool* spool, std::string agent_id, BatcherOptions options, Logger* logger,
                 MetricsRegistry* metrics)
    : spool_(spool),
      agent_id_(std::move(agent_id)),
      options_(options),
      logger_(logger),
      batches_sealed_(metrics->GetCounter("orgtrail_agent_batches_sealed_total",
                                          "Batches sealed (signed once) into the spool")),
      events_batched_(metrics->GetCounter("orgtrail_agent_events_batched_total",
                                          "Events sealed into batches (from pending, or directly from a source)")),
      events_sealed_directly_(metrics->GetCounter(
          "orgtrail_agent_events_sealed_directly_total",
          "Events a source handed over in groups large enough to be sealed without a pending copy")),
      batches_resealed_(metrics->GetCounter(
          "orgtrail_agent_batches_resealed_total",
          "Batches re-sealed under new sequences after a sequence collision")),
      unreadable_entries_(metrics->GetCounter(
          "orgtrail_agent_spool_unreadable_entries_total",
          "Pending spool entries that did not parse (moved to the quarantine with their bytes)")) {}

void Batcher::SetSigner(std::shared_ptr<const Signer> signer) {
  std::lock_guard<std::mutex> lock(mu_);
  signer_ = std::move(signer);
}

std::shared_ptr<const Signer> Batcher::signer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signer_;
}

void Batcher::SetEpoch(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  epoch_ = epoch;
}

void Batcher::LimitBatchBytes(size_t collector_max_bytes) {
  if (collector_max_bytes == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  // Leave room for the batch envelope (header fields, signature, framing).
  const size_t usable = collector_max_bytes > 8192 ? collector_max_bytes - 8192 : collector_max_bytes / 2;
  options_.max_batch_bytes = std::max<size_t>(1, std::min(options_.max_batch_bytes, usable));
}

void Batcher::LimitBatchEvents(size_t collector_max_events) {
  if (collector_max_events == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  options_.max_batch_events = std::max<size_t>(1, std::min(options_.max_batch_events, collector_max_events));
}

bool Batcher::Due(int64_t now_us) const {
  const SpoolStats stats = spool_->Stats();
  if (stats.pending_events == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return stats.pending_events >= options_.max_batch_events ||
         stats.pending_bytes >= options_.max_batch_bytes ||
         spool_->OldestPendingAgeMicros(now_us) >= options_.max_batch_age_us;
}

StatusOr<std::optional<uint64_t>> Batcher::SealIfDue(bool force) {
  if (!force && !Due(NowUs())) return std::optional<uint64_t>();
  std::lock_guard<std::mutex> lock(mu_);
  return SealLocked();
}

Status Batcher::SealAllDue(bool force) {
  for (int i = 0; i < 10000; ++i) {
    auto sealed = SealIfDue(force);
    if (!sealed.ok()) return sealed.status();
    if (!sealed->has_value()) return absl::OkStatus();
  }
  return absl::OkStatus();
}

v1::Batch Batcher::NewBatchLocked(uint64_t sequence, const Digest& prev_hash) const {
  v1::Batch batch;
  batch.set_agent_id(agent_id_);
  batch.set_epoch(epoch_);
  batch.set_sequence(sequence);
  batch.set_prev_batch_hash(DigestToString(prev_hash));
  batch.set_created_time_us(NowUs());
  return batch;
}

bool Batcher::WorthSealingDirectlyLocked(size_t events, size_t raw_bytes) const {
  return events * 4 >= options_.max_batch_events || raw_bytes * 4 >= options_.max_batch_bytes;
}

Status Batcher::SealDirectLocked(const AgentState& state, std::vector<v1::Event>* events,
                                 std::vector<v1::Batch>* batches, Digest* last_hash) {
  uint64_t sequence = state.next_sequence;
  Digest prev = state.last_batch_hash;
  // Cut as SealLocked cuts pending events: by count and serialized bytes, at least one event.
  for (size_t i = 0; i < events->size();) {
    v1::Batch& batch = batches->emplace_back(NewBatchLocked(sequence++, prev));
    size_t bytes = 0;
    while (i < events->size() && static_cast<size_t>(batch.events_size()) < options_.max_batch_events) {
      const size_t size = (*events)[i].ByteSizeLong();
      if (batch.events_size() > 0 && bytes + size > options_.max_batch_bytes) break;
      bytes += size;
      *batch.add_events() = std::move((*events)[i++]);
    }
    ORGTRAIL_RETURN_IF_ERROR(SealBatch(*signer_, &batch));
    auto header = HeaderOfBatch(batch);
    if (!header.ok()) return header.status();
    prev = BatchHash(*header);
  }
  *last_hash = prev;
  return absl::OkStatus();
}

Status Batcher::SpoolEvents(std::vector<v1::Event>* events, const std::vector<SourceCheckpoint>& checkpoints) {
  size_t raw_bytes = 0;
  for (const auto& event : *events) raw_bytes += event.raw_json().size();
  std::lock_guard<std::mutex> lock(mu_);
  const AgentState state = spool_->state();
  // Pending when small, until the collector confirmed the sequence position, or without a key;
  // and a full spool refuses the pending append cheaply, before anything is signed.
  if (events->empty() || !WorthSealingDirectlyLocked(events->size(), raw_bytes) || !state.sequence_confirmed ||
      signer_ == nullptr || !spool_->HasRoomFor(raw_bytes)) {
    return spool_->AppendEvents(*events, checkpoints);
  }
  const size_t event_count = events->size();
  std::vector<v1::Batch> batches;
  Digest last_hash{};
  Status status = SealDirectLocked(state, events, &batches, &last_hash);
  const size_t batch_count = batches.size();
  if (status.ok()) status = spool_->CommitDirectBatches(&batches, last_hash, checkpoints);
  if (!status.ok()) {
    // Nothing was written: the events go back to the caller, in order (those moved into
    // batches first, then any that sealing did not reach).
    std::vector<v1::Event> restored;
    restored.reserve(event_count);
    for (auto& batch : batches) {
      for (auto& event : *batch.mutable_events()) restored.push_back(std::move(event));
    }
    for (size_t i = restored.size(); i < event_count; ++i) restored.push_back(std::move((*events)[i]));
    *events = std::move(restored);
    // The batches' envelopes did not fit where the bare events may: the pending append decides.
    if (absl::IsResourceExhausted(status)) return spool_->AppendEvents(*events, checkpoints);
    return status;
  }
  batches_sealed_->Increment(batch_count);
  events_batched_->Increment(event_count);
  events_sealed_directly_->Increment(event_count);
  return absl::OkStatus();
}

StatusOr<std::optional<uint64_t>> Batcher::SealLocked() {
  const AgentState state = spool_->state();
  if (!state.sequence_confirmed) return std::optional<uint64_t>();
  if (signer_ == nullptr) return absl::FailedPreconditionError("batcher has no signing key");
  std::vector<PendingEvent> pending =
      spool_->ReadPending(options_.max_batch_events, options_.max_batch_bytes);
  if (pending.empty()) return std::optional<uint64_t>();

  v1::Batch batch = NewBatchLocked(state.next_sequence, state.last_batch_hash);
  std::vector<uint64_t> ids;
  uint64_t bytes = 0;
  for (auto& p : pending) {
    ids.push_back(p.id);
    bytes += p.stored_bytes;
    if (p.unreadable || p.event.raw_json().empty()) {
      // Never silently dropped: the bytes go to the quarantine (listed with the agent's
      // quarantined inputs), counted and logged, before the batch deletes the entry.
      ORGTRAIL_RETURN_IF_ERROR(spool_->Quarantine(
          "spool-entry:" + std::to_string(p.id),
          "unreadable pending spool entry of " + std::to_string(p.stored_bytes) +
              " bytes (disk corruption?); stored bytes, base64: " + Base64Encode(p.stored_value)));
      unreadable_entries_->Increment();
      logger_->Error("unreadable pending spool entry moved to the quarantine",
                     {{"pending_id", p.id}, {"bytes", static_cast<uint64_t>(p.stored_bytes)}});
      continue;
    }
    *batch.add_events() = std::move(p.event);
  }
  Digest hash{};
  if (batch.events_size() > 0) {
    ORGTRAIL_RETURN_IF_ERROR(SealBatch(*signer_, &batch));
    auto header = HeaderOfBatch(batch);
    if (!header.ok()) return header.status();
    hash = BatchHash(*header);
  } else {
    // Only unreadable entries: drop them without using a sequence number.
    ORGTRAIL_RETURN_IF_ERROR(spool_->CommitSealedBatch(batch, state.last_batch_hash, ids, bytes));
    return std::optional<uint64_t>();
  }
  const uint64_t sequence = batch.sequence();
  const int events = batch.events_size();
  ORGTRAIL_RETURN_IF_ERROR(spool_->CommitSealedBatch(std::move(batch), hash, ids, bytes));
  batches_sealed_->Increment();
  events_batched_->Increment(events);
  return std::optional<uint64_t>(sequence);
}

StatusOr<uint64_t> Batcher::Reconcile(uint64_t high_water, const std::string& collector_last_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  Digest collector_hash{};
  if (collector_last_hash.size() == 32) {
    std::copy(collector_last_hash.begin(), collector_last_hash.end(), collector_hash.begin());
  }
  const AgentState state = spool_->state();
  const SpoolStats stats = spool_->Stats();
  const bool collector_ahead = high_water >= state.next_sequence;
  if (!state.sequence_confirmed || collector_ahead) {
    // Fresh spool, or the collector holds sequences we do not remember.
    if (!stats.lowest_sealed_sequence.has_value()) {
      const uint64_t next = std::max(state.next_sequence, high_water + 1);
      const Digest prev = next == high_water + 1 ? collector_hash : state.last_batch_hash;
      ORGTRAIL_RETURN_IF_ERROR(spool_->SetSequencePosition(next, prev));
      if (collector_ahead && state.sequence_confirmed) {
        logger_->Warn("collector holds sequences this spool does not remember; continuing above them",
                      {{"high_water", high_water}, {"next_sequence", next}});
      }
      return next;
    }
    logger_->Warn("sequence collision with the collector: re-sealing unsent batches above its high water",
                  {{"high_water", high_water},
                   {"lowest_stored", *stats.lowest_sealed_sequence},
                   {"next_sequence", state.next_sequence}});
    ORGTRAIL_RETURN_IF_ERROR(ResealAllLocked(high_water + 1, collector_hash));
    return high_water + 1;
  }
  // The normal case: the collector is at or behind our position.
  if (stats.lowest_sealed_sequence.has_value() && high_water >= *stats.lowest_sealed_sequence) {
    const auto ours = spool_->ReadBatch(high_water);
    bool same = false;
    if (ours.has_value()) {
      auto header = HeaderOfBatch(*ours);
      same = header.ok() && BatchHash(*header) == collector_hash;
    }
    if (!same) {
      logger_->Warn("collector's batch at its high water differs from ours: re-sealing unsent batches",
                    {{"high_water", high_water}});
      const uint64_t first = std::max(high_water, state.next_sequence - 1) + 1;
      ORGTRAIL_RETURN_IF_ERROR(ResealAllLocked(first, collector_hash));
      return first;
    }
    ORGTRAIL_RETURN_IF_ERROR(spool_->PruneThrough(high_water));
  }
  return high_water + 1;
}

Status Batcher::ResealAllLocked(uint64_t first_sequence, const Digest& prev_hash) {
  if (signer_ == nullptr) return absl::FailedPreconditionError("batcher has no signing key");
  std::vector<v1::Batch> old_batches = spool_->ReadBatchesFrom(0, SIZE_MAX);
  std::vector<v1::Batch> resealed;
  uint64_t sequence = first_sequence;
  Digest prev = prev_hash;
  for (auto& old : old_batches) {
    v1::Batch batch = NewBatchLocked(sequence++, prev);
    *batch.mutable_events() = std::move(*old.mutable_events());
    ORGTRAIL_RETURN_IF_ERROR(SealBatch(*signer_, &batch));
    auto header = HeaderOfBatch(batch);
    if (!header.ok()) return header.status();
    prev = BatchHash(*header);
    resealed.push_back(std::move(batch));
  }
  batches_resealed_->Increment(resealed.size());
  return spool_->ReplaceAllBatches(resealed, sequence, prev);
}

Status Batcher::ResignAll() {
  std::lock_guard<std::mutex> lock(mu_);
  if (signer_ == nullptr) return absl::FailedPreconditionError("batcher has no signing key");
  for (auto& batch : spool_->ReadBatchesFrom(0, SIZE_MAX)) {
    ORGTRAIL_RETURN_IF_ERROR(SealBatch(*signer_, &batch));
    ORGTRAIL_RETURN_IF_ERROR(spool_->ReplaceBatch(batch));
  }
  return absl::OkStatus();
}

}  // namespace orgtrail::agent
