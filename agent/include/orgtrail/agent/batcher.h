// Batcher: cuts pending spool events into batches (by count, size or age),
// seals each batch ONCE with the agent's key (common/batch.h SealBatch) and
// commits it to the spool, where it stays byte for byte until acknowledged.
//
// The sequence rule (sequence numbers strictly increase per agent identity
// for the agent's whole life, even across a lost or corrupted spool):
// - A spool whose sequence position is not confirmed (a fresh database)
//   seals nothing until the stream client has heard the collector's
//   HelloAck: Reconcile() then moves next_sequence above the collector's
//   high-water mark and chains from its last batch hash.
// - On every HelloAck, Reconcile() checks the stored batches against the
//   collector: if the collector already holds a sequence we are about to send
//   but with a different batch hash (or holds sequences beyond everything we
//   remember), our unsent batches collide with batches the collector has: they
//   are re-sealed under new sequences above its high-water mark (the events
//   are unchanged; their eventIDs let the collector drop any duplicate).
// - Otherwise the stored batches the collector already has (lost acks) are
//   pruned and the rest are resent unchanged.
// Sources hand their events to SpoolEvents: a quarter of a batch or more is
// sealed straight into batches and committed with the source's checkpoints in
// one synced write, so those events are written to the spool once (not as
// pending events and then again as a batch); smaller groups wait as pending
// events, which the batcher cuts by count, size or age.
// Key rotation: the batch header (and so the chain) does not depend on the
// key, so after the key file changes ResignAll() re-signs the stored batches
// in place with the new key.
//
// Thread safety: all methods are thread-safe (one internal mutex serializes
// sealing, reconciling and re-signing).
#ifndef ORGTRAIL_AGENT_BATCHER_H_
#define ORGTRAIL_AGENT_BATCHER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "orgtrail/agent/spool.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"

namespace orgtrail::agent {

struct BatcherOptions {
  size_t max_batch_events = 500;
  size_t max_batch_bytes = 1 << 20;       // serialized events per batch
  int64_t max_batch_age_us = 200000;      // oldest pending event waits at most this long
};

class Batcher {
 public:
  Batcher(Spool* spool, std::string agent_id, BatcherOptions options, Logger* logger,
          MetricsRegistry* metrics);

  void SetSigner(std::shared_ptr<const Signer> signer);
  std::shared_ptr<const Signer> signer() const;
  void SetEpoch(uint64_t epoch);
  // Lowers the byte limit to what the collector accepts (HelloAck).
  void LimitBatchBytes(size_t collector_max_bytes);
  // Lowers max_batch_events to the collector's limit (HelloAck max_events_per_batch; 0 = none).
  void LimitBatchEvents(size_t collector_max_events);

  // Spools a source's accepted events with its checkpoints, in one synced
  // write: sealed into batches directly when they fill at least a quarter of
  // a batch and the sequence is confirmed, else appended as pending events
  // (Spool::AppendEvents). On success the events may have been moved from;
  // on error they are all still in *events (in order). RESOURCE_EXHAUSTED
  // (nothing written) when the spool has no room: the source pauses and retries.
  Status SpoolEvents(std::vector<v1::Event>* events, const std::vector<SourceCheckpoint>& checkpoints);

  // True when the pending events should be cut now (count, size or age).
  bool Due(int64_t now_us) const;
  // Seals one batch from the oldest pending events if Due() or force and the
  // sequence is confirmed. Returns the sealed sequence, or nullopt if nothing
  // was sealed.
  StatusOr<std::optional<uint64_t>> SealIfDue(bool force = false);
  // Seals until nothing more is due.
  Status SealAllDue(bool force = false);

  // After HelloAck (see the sequence rule above). Returns the first sequence
  // to send.
  StatusOr<uint64_t> Reconcile(uint64_t high_water, const std::string& collector_last_hash);
  // Re-signs every stored batch with the current signer.
  Status ResignAll();

 private:
  StatusOr<std::optional<uint64_t>> SealLocked();
  // A new batch continuing the chain at (sequence, prev_hash), without events.
  v1::Batch NewBatchLocked(uint64_t sequence, const Digest& prev_hash) const;
  // A quarter batch or more, by count or raw bytes (mu_ held).
  bool WorthSealingDirectlyLocked(size_t events, size_t raw_bytes) const;
  // Cuts *events (moved from) into sealed batches continuing the chain at state.
  Status SealDirectLocked(const AgentState& state, std::vector<v1::Event>* events,
                          std::vector<v1::Batch>* batches, Digest* last_hash);
  Status ResealAllLocked(uint64_t first_sequence, const Digest& prev_hash);

  Spool* spool_;
  const std::string agent_id_;
  BatcherOptions options_;
  Logger* logger_;
  mutable std::mutex mu_;
  std::shared_ptr<const Signer> signer_;
  uint64_t epoch_ = 0;
  Counter* batches_sealed_;
  Counter* events_batched_;
  Counter* events_sealed_directly_;
  Counter* batches_resealed_;
  Counter* unreadable_entries_;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_BATCHER_H_
