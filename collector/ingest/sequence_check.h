// Sequence check: how a batch relates to what the store already holds for its
// agent (proto/PROTOCOL.md "Stream", rule 4).
//
//   sequence >  high-water                       -> kNew      (validate, store)
//   sequence <= high-water, the stored batch at
//     that sequence has the same signed header   -> kReplay   (lost-ack replay: ack, store nothing)
//   sequence <= high-water, otherwise            -> kConflict (refused: sequence_conflict)
//
// "Same signed header" compares the canonical header bytes (agent, epoch,
// sequence, count, prev hash, Merkle root over the events, time): the batch
// hash. Signatures are not compared (ECDSA is randomized, keys rotate). A
// sequence at or below the high-water that has no stored batch (a gap left by
// a refused batch, or a number another process with the same identity used)
// is a conflict too: acknowledging it would acknowledge events never stored.
//
// Thread safety: a pure function over the store's read side; any thread.
#ifndef ORGTRAIL_COLLECTOR_INGEST_SEQUENCE_CHECK_H_
#define ORGTRAIL_COLLECTOR_INGEST_SEQUENCE_CHECK_H_

#include <cstdint>
#include <string>

#include "collector/store/store.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/ingest.pb.h"

namespace orgtrail::collector {

enum class SequenceVerdict { kNew, kReplay, kConflict };

struct SequenceCheck {
  SequenceVerdict verdict = SequenceVerdict::kNew;
  uint64_t high_water = 0;  // the agent's durable high-water sequence when checked
  std::string detail;       // why a conflict is one (for the IngestError message and the log)
};

// Errors: a store read failure (UNAVAILABLE/INTERNAL from the store); a batch
// whose header fields are malformed is kNew (the validator refuses it).
StatusOr<SequenceCheck> CheckSequence(const EventStore& store, const std::string& agent_id, const v1::Batch& batch);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_SEQUENCE_CHECK_H_
