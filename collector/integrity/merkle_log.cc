// Incremental RFC 6962 log over the commit order (see merkle_log.h).
#include "collector/integrity/merkle_log.h"

#include <map>

#include "collector/export/export_strings.h"
#include "collector/store/store_keys.h"
#include "orgtrail/common/merkle.h"

namespace orgtrail::collector {
namespace {

using internal::Cat;

constexpr std::string_view kSizeKey = "merkle/size";
constexpr std::string_view kNextCommitKey = "merkle/next_commit";
constexpr std::string_view kCheckpointKey = "merkle/checkpoint";

std::string U64(uint64_t v) {
  std::string s;
  PutFixed64BE(&s, v);
  return s;
}

std::string CommitToLeafKey(uint64_t commit) { return "merkle/c2l/" + U64(commit); }
std::string CheckpointAtKey(uint64_t size) { return "merkle/cp/" + U64(size); }

StatusOr<uint64_t> ReadU64(EventStore* store, std::string_view key, uint64_t dflt) {
  auto v = store->GetMetadata(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return dflt;
  std::string_view s = **v;
  uint64_t out = 0;
  if (!GetFixed64BE(&s, &out) || !s.empty()) return absl::DataLossError(Cat("merkle: undecodable ", key));
  return out;
}

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

}  // namespace

std::string MerkleNodeKey(int level, uint64_t index) {
  std::string k = "merkle/n/";
  k.push_back(static_cast<char>(level));
  PutFixed64BE(&k, index);
  return k;
}

StatusOr<std::unique_ptr<MerkleLog>> MerkleLog::Open(EventStore* store, MerkleLogOptions options,
                                                     const CheckpointSigner* signer) {
  if (options.origin.empty() || options.origin.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("merkle log: invalid origin");
  }
  std::unique_ptr<MerkleLog> log(new MerkleLog(store, std::move(options), signer));
  auto size = ReadU64(store, kSizeKey, 0);
  if (!size.ok()) return size.status();
  auto next = ReadU64(store, kNextCommitKey, 1);
  if (!next.ok()) return next.status();
  log->size_ = *size;
  log->next_commit_ = *next;
  return log;
}

uint64_t MerkleLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

StatusOr<uint64_t> MerkleLog::Append() {
  uint64_t size, next_commit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size = size_;
    next_commit = next_commit_;
  }
  const uint64_t last = store_->last_commit_index();
  if (last < next_commit) return uint64_t{0};
  std::map<std::pair<int, uint64_t>, Digest> fresh;
  std::vector<EventStore::MetadataEntry> batch;
  auto lookup = [&](int level, uint64_t index) -> StatusOr<Digest> {
    auto it = fresh.find({level, index});
    if (it != fresh.end()) return it->second;
    return Node(level, index);
  };
  uint64_t appended = 0;
  // Appends the leaf of the event of `commit` and the parents it completes.
  auto add_leaf = [&](uint64_t commit, std::string_view raw_json) -> Status {
    const uint64_t leaf = size + appended;
    Digest h = MerkleLeafHash(raw_json);
    fresh[{0, leaf}] = h;
    batch.emplace_back(MerkleNodeKey(0, leaf), DigestToString(h));
    batch.emplace_back(CommitToLeafKey(commit), U64(leaf));
    uint64_t index = leaf;
    for (int level = 1; (index & 1) == 1; ++level) {
      auto left = lookup(level - 1, index - 1);
      if (!left.ok()) return left.status();
      Digest parent = MerkleNodeHash(*left, h);
      index >>= 1;
      fresh[{level, index}] = parent;
      batch.emplace_back(MerkleNodeKey(level, index), DigestToString(parent));
      h = parent;
    }
    ++appended;
    return Status();
  };
  // Right behind the writer the events come from the store's memory, older ones from RocksDB.
  auto reads = store_->ReadCommittedEvents(next_commit - 1, last, options_.max_leaves_per_append, &event_,
                                           &value_buffer_, [&](uint64_t commit, const StoredEvent& event) {
                                             return add_leaf(commit, event.raw_json);
                                           });
  if (!reads.ok()) return reads.status();
  const uint64_t next = reads->last_read + 1;
  if (next == next_commit) return uint64_t{0};
  batch.emplace_back(std::string(kSizeKey), U64(size + appended));
  batch.emplace_back(std::string(kNextCommitKey), U64(next));
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata(batch));
  events_read_from_memory_ += reads->from_memory;
  events_read_from_store_ += reads->from_store;
  std::lock_guard<std::mutex> lock(mu_);
  size_ = size + appended;
  next_commit_ = next;
  return appended;
}

StatusOr<std::string> MerkleLog::Checkpoint(int64_t now_us) {
  if (signer_ == nullptr) return absl::FailedPreconditionError("merkle log: no checkpoint signer");
  const uint64_t n = size();
  auto root = Root(n);
  if (!root.ok()) return root.status();
  auto note = signer_->Sign(orgtrail::Checkpoint{options_.origin, n, *root});
  if (!note.ok()) return note.status();
  ORGTRAIL_RETURN_IF_ERROR(store_->WriteMetadata({{std::string(kCheckpointKey), *note}, {CheckpointAtKey(n), *note}}));
  return note;
}

StatusOr<Digest> MerkleLog::Node(int level, uint64_t index) const {
  auto v = store_->GetMetadata(MerkleNodeKey(level, index));
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return absl::DataLossError(Cat("merkle: missing node level ", level, " index ", index));
  }
  auto d = DigestFromString(**v);
  if (!d.ok()) return absl::DataLossError("merkle: undecodable node");
  return *d;
}

StatusOr<Digest> MerkleLog::Subtree(uint64_t begin, uint64_t end) const {
  const uint64_t n = end - begin;
  if ((n & (n - 1)) == 0 && begin % n == 0) {
    int level = 0;
    while ((uint64_t{1} << level) < n) ++level;
    return Node(level, begin >> level);
  }
  const uint64_t k = SplitPoint(n);
  auto left = Subtree(begin, begin + k);
  if (!left.ok()) return left.status();
  auto right = Subtree(begin + k, end);
  if (!right.ok()) return right.status();
  return MerkleNodeHash(*left, *right);
}

StatusOr<Digest> MerkleLog::Root(uint64_t tree_size) const {
  if (tree_size > size()) return absl::OutOfRangeError(Cat("tree size ", tree_size, " exceeds the log size ", size()));
  if (tree_size == 0) return MerkleEmptyRoot();
  return Subtree(0, tree_size);
}

StatusOr<Digest> MerkleLog::LeafHash(uint64_t leaf_index) const {
  if (leaf_index >= size()) return absl::OutOfRangeError("leaf index beyond the log");
  return Node(0, leaf_index);
}

Status MerkleLog::InclusionPath(uint64_t m, uint64_t begin, uint64_t end, std::vector<Digest>* out) const {
  const uint64_t n = end - begin;
  if (n == 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (m - begin < k) {
    ORGTRAIL_RETURN_IF_ERROR(InclusionPath(m, begin, begin + k, out));
    auto sib = Subtree(begin + k, end);
    if (!sib.ok()) return sib.status();
    out->push_back(*sib);
  } else {
    ORGTRAIL_RETURN_IF_ERROR(InclusionPath(m, begin + k, end, out));
    auto sib = Subtree(begin, begin + k);
    if (!sib.ok()) return sib.status();
    out->push_back(*sib);
  }
  return absl::OkStatus();
}

StatusOr<std::vector<Digest>> MerkleLog::InclusionProof(uint64_t leaf_index, uint64_t tree_size) const {
  if (tree_size > size()) return absl::OutOfRangeError(Cat("tree size ", tree_size, " exceeds the log size ", size()));
  if (leaf_index >= tree_size) return absl::InvalidArgumentError("leaf index must be below the tree size");
  std::vector<Digest> out;
  ORGTRAIL_RETURN_IF_ERROR(InclusionPath(leaf_index, 0, tree_size, &out));
  return out;
}

Status MerkleLog::SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete,
                           std::vector<Digest>* out) const {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      auto h = Subtree(begin, end);
      if (!h.ok()) return h.status();
      out->push_back(*h);
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    ORGTRAIL_RETURN_IF_ERROR(SubProof(m, begin, begin + k, complete, out));
    auto h = Subtree(begin + k, end);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  } else {
    ORGTRAIL_RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, out));
    auto h = Subtree(begin, begin + k);
    if (!h.ok()) return h.status();
    out->push_back(*h);
  }
  return absl::OkStatus();
}

StatusOr<std::vector<Digest>> MerkleLog::ConsistencyProof(uint64_t old_size, uint64_t new_size) const {
  if (new_size > size()) return absl::OutOfRangeError(Cat("tree size ", new_size, " exceeds the log size ", size()));
  if (old_size > new_size) return absl::InvalidArgumentError("old size must not exceed new size");
  std::vector<Digest> out;
  if (old_size == 0 || old_size == new_size) return out;
  ORGTRAIL_RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, &out));
  return out;
}

StatusOr<uint64_t> MerkleLog::LeafIndexOfCommit(uint64_t commit_index) const {
  auto v = store_->GetMetadata(CommitToLeafKey(commit_index));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return absl::NotFoundError(Cat("commit index ", commit_index, " is not in the log yet"));
  std::string_view s = **v;
  uint64_t leaf = 0;
  if (!GetFixed64BE(&s, &leaf)) return absl::DataLossError("merkle: undecodable leaf index");
  return leaf;
}

StatusOr<std::string> MerkleLog::LatestCheckpoint() const {
  auto v = store_->GetMetadata(kCheckpointKey);
  if (!v.ok()) return v.status();
  return v->value_or("");
}

StatusOr<std::string> MerkleLog::CheckpointAt(uint64_t tree_size) const {
  auto v = store_->GetMetadata(CheckpointAtKey(tree_size));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return absl::NotFoundError(Cat("no checkpoint was signed at size ", tree_size));
  return **v;
}

}  // namespace orgtrail::collector
