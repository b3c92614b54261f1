// The organization-wide Merkle log: one RFC 6962 tree over every stored
// event in commit order (leaf i = the i-th stored event, leaf hash =
// SHA-256(0x00 || raw_json), the same leaf hash the agent's batch signature
// committed to). One log for the organization (not one per partition), so a
// single checkpoint covers everything and a rollback anywhere is visible.
//
// Storage (store metadata column family, prefix "merkle/"):
//   merkle/size                 U(tree size)
//   merkle/next_commit          U(next commit index to append)
//   merkle/n/<level><U(index)>  32-byte hash of the complete subtree
//                               [index*2^level, (index+1)*2^level); level 0 = leaves
//   merkle/c2l/<U(commit)>      U(leaf index) of a commit index
//   merkle/checkpoint           latest signed checkpoint note
//   merkle/cp/<U(size)>         every signed checkpoint note, by size
// Append() writes all of a chunk's entries in ONE synced metadata write, so
// a crash leaves the tree at a chunk boundary; the next Append() resumes.
// Append() reads the events right behind the writer from the store's memory
// (RecentEvents, recent_events.h) and older ones from RocksDB; an event that
// retention removed between its commit and its append is logged when it was
// still in memory, and skipped when it was read from RocksDB.
// Proofs read O(log n) stored nodes (subtree hashes of the right edge are
// combined on the fly).
//
// Thread safety: Append()/Checkpoint() from one thread (the exporter
// thread); the read methods (proofs, roots, checkpoints) from any thread; a
// mutex guards the in-memory size.
#ifndef ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_H_
#define ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct MerkleLogOptions {
  std::string origin;                  // checkpoint origin, e.g. "example.org/orgtrail"
  uint64_t max_leaves_per_append = 50000;
};

class MerkleLog {
 public:
  // signer may be null (then Checkpoint() fails); not owned.
  static StatusOr<std::unique_ptr<MerkleLog>> Open(EventStore* store, MerkleLogOptions options,
                                                   const CheckpointSigner* signer);

  // Appends leaves for events committed since the last append (at most
  // max_leaves_per_append). Returns how many were appended.
  StatusOr<uint64_t> Append();
  // Events Append() read from the store's memory / from RocksDB since Open (any thread).
  uint64_t events_read_from_memory() const { return events_read_from_memory_.load(); }
  uint64_t events_read_from_store() const { return events_read_from_store_.load(); }
  // Signs and stores a checkpoint of the current tree; returns the note.
  StatusOr<std::string> Checkpoint(int64_t now_us);

  uint64_t size() const;
  StatusOr<Digest> Root(uint64_t size) const;
  StatusOr<std::vector<Digest>> InclusionProof(uint64_t leaf_index, uint64_t tree_size) const;
  StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;
  StatusOr<Digest> LeafHash(uint64_t leaf_index) const;
  // Leaf index of a commit index (NOT_FOUND if not yet appended).
  StatusOr<uint64_t> LeafIndexOfCommit(uint64_t commit_index) const;
  // Latest checkpoint note ("" if none) / the note signed at exactly `size`.
  StatusOr<std::string> LatestCheckpoint() const;
  StatusOr<std::string> CheckpointAt(uint64_t size) const;
  const std::string& origin() const { return options_.origin; }

 private:
  MerkleLog(EventStore* store, MerkleLogOptions options, const CheckpointSigner* signer)
      : store_(store), options_(std::move(options)), signer_(signer) {}
  StatusOr<Digest> Node(int level, uint64_t index) const;
  StatusOr<Digest> Subtree(uint64_t begin, uint64_t end) const;
  Status InclusionPath(uint64_t m, uint64_t begin, uint64_t end, std::vector<Digest>* out) const;
  Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete, std::vector<Digest>* out) const;

  EventStore* store_;
  MerkleLogOptions options_;
  const CheckpointSigner* signer_;
  mutable std::mutex mu_;
  uint64_t size_ = 0;
  uint64_t next_commit_ = 1;
  StoredEvent event_;  // Append()'s: buffers reused from event to event
  std::string value_buffer_;
  std::atomic<uint64_t> events_read_from_memory_{0};
  std::atomic<uint64_t> events_read_from_store_{0};
};

std::string MerkleNodeKey(int level, uint64_t index);

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INTEGRITY_MERKLE_LOG_H_
