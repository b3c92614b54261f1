// Batch sealing and verification: the canonical signed header of
// proto/PROTOCOL.md, leaf hashes, Merkle root, signature. Shared by the agent
// (seal), the collector (verify) and the CLI (offline verify-event).
// Pure functions over their arguments; thread-safe.
#ifndef ORGTRAIL_COMMON_BATCH_H_
#define ORGTRAIL_COMMON_BATCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"
#include "orgtrail/v1/ingest.pb.h"

namespace orgtrail {

struct BatchHeader {
  std::string agent_id;
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  uint64_t event_count = 0;
  Digest prev_batch_hash{};  // zeros for the first batch
  Digest merkle_root{};
  int64_t created_time_us = 0;
};

// The exact bytes that are signed (PROTOCOL.md "Signed header").
std::string CanonicalBatchHeader(const BatchHeader& header);
// Inverse of CanonicalBatchHeader; INVALID_ARGUMENT on any deviation.
StatusOr<BatchHeader> ParseCanonicalBatchHeader(std::string_view bytes);
// SHA-256 of the canonical header.
Digest BatchHash(const BatchHeader& header);

// Leaf hashes of batch.events()[i].raw_json(), in order.
std::vector<Digest> BatchLeafHashes(const v1::Batch& batch);
// Header as carried by a batch message (merkle_root/prev taken from the
// message as-is; INVALID_ARGUMENT if they are not 32 bytes).
StatusOr<BatchHeader> HeaderOfBatch(const v1::Batch& batch);

// Computes leaf hashes, merkle_root, signature and signature_algorithm for a
// batch whose agent_id, epoch, sequence, prev_batch_hash, created_time_us and
// events are already set.
Status SealBatch(const Signer& signer, v1::Batch* batch);

// Recomputes every leaf hash and the root from raw_json, compares with
// merkle_root, and verifies the signature over the canonical header.
// Returns DATA_LOSS for a root mismatch, UNAUTHENTICATED for a bad
// signature, INVALID_ARGUMENT for malformed fields. On success fills
// *leaf_hashes (if non-null).
Status VerifyBatch(const v1::Batch& batch, const Verifier& verifier,
                   std::vector<Digest>* leaf_hashes = nullptr);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_BATCH_H_
