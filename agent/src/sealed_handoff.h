// SealedHandoff: the newest batches the spool committed, kept in memory until
// the stream takes them, so the stream does not read back and re-parse what
// was just written (it reads the spool only to resend, or when it fell behind).
//
// Contract: it holds copies of what is stored, never anything else. The spool
// puts a batch only after its write succeeded, in sequence order, and drops
// entries whenever the stored batches change (pruned, dead-lettered, re-signed,
// re-sealed). Bounded by max_bytes (serialized size): past it, the oldest are
// dropped and read from the spool instead. Take() hands a batch over once.
// Thread safety: all methods are thread-safe.
#ifndef ORGTRAIL_AGENT_SRC_SEALED_HANDOFF_H_
#define ORGTRAIL_AGENT_SRC_SEALED_HANDOFF_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "orgtrail/v1/ingest.pb.h"

namespace orgtrail::agent {

class SealedHandoff {
 public:
  explicit SealedHandoff(size_t max_bytes) : max_bytes_(max_bytes) {}

  // A batch just stored; `bytes` is its serialized size.
  void Put(v1::Batch batch, size_t bytes);
  // Up to `max` kept batches with consecutive sequences from `first` (moved
  // out); empty when `first` is not kept. Kept entries below `first` are dropped.
  std::vector<v1::Batch> Take(uint64_t first, size_t max);
  void DropThrough(uint64_t sequence);
  void Drop(uint64_t sequence);
  void Clear();

 private:
  struct Entry {
    v1::Batch batch;
    size_t bytes = 0;
  };
  void DropBelowLocked(uint64_t sequence);

  const size_t max_bytes_;
  std::mutex mu_;
  std::map<uint64_t, Entry> kept_;  // by sequence
  size_t bytes_ = 0;
};

}  // namespace orgtrail::agent

#endif  // ORGTRAIL_AGENT_SRC_SEALED_HANDOFF_H_
