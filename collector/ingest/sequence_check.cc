#include "collector/ingest/sequence_check.h"

#include "orgtrail/common/batch.h"

namespace orgtrail::collector {

StatusOr<SequenceCheck> CheckSequence(const EventStore& store, const std::string& agent_id, const v1::Batch& batch) {
  SequenceCheck check;
  std::optional<AgentState> state = store.GetAgentState(agent_id);
  if (state.has_value()) check.high_water = state->high_water_sequence;
  if (batch.sequence() == 0 || batch.sequence() > check.high_water) return check;  // kNew (0: the validator refuses it)
  const std::string seq = std::to_string(batch.sequence());
  StatusOr<std::optional<ProvenanceRecord>> stored = store.GetProvenance(agent_id, batch.sequence());
  if (!stored.ok()) return stored.status();
  check.verdict = SequenceVerdict::kConflict;
  if (!stored->has_value()) {
    check.detail = "sequence " + seq + " is at or below the stored high-water " + std::to_string(check.high_water) +
                   " but no batch is stored under it";
    return check;
  }
  StatusOr<BatchHeader> header = HeaderOfBatch(batch);
  if (!header.ok()) {
    check.detail = "sequence " + seq + " is already stored and this batch's header is malformed: " +
                   std::string(header.status().message());
    return check;
  }
  if (CanonicalBatchHeader(*header) == (*stored)->signed_header) {
    check.verdict = SequenceVerdict::kReplay;
    return check;
  }
  StatusOr<BatchHeader> theirs = ParseCanonicalBatchHeader((*stored)->signed_header);
  check.detail = "sequence " + seq + " is already stored with another batch (stored epoch " +
                 (theirs.ok() ? std::to_string(theirs->epoch) : std::string("?")) + ", " +
                 (theirs.ok() ? std::to_string(theirs->event_count) : std::string("?")) + " events; this batch epoch " +
                 std::to_string(batch.epoch()) + ", " + std::to_string(batch.events_size()) +
                 " events): another process may be using this agent's identity";
  return check;
}

}  // namespace orgtrail::collector
