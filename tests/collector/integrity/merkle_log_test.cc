// MerkleLog on a real store: RFC 6962 test vectors through the commit
// order, roots and proofs equal to common/merkle.h's reference functions for
// every size, verification of every proof, corrupt-proof battery, signed
// checkpoints, and resumption after reopening.
#include "collector/integrity/merkle_log.h"

#include <gtest/gtest.h>

#include "collector/export_test_support.h"
#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/merkle.h"
#include "testutil/temp_dir.h"

namespace orgtrail::collector {
namespace {

// Commits arbitrary leaf bytes as raw_json (ids given explicitly).
void CommitRaw(EventStore* store, uint64_t seq, const std::vector<std::string>& raw, int first_id) {
  IngestBatch b;
  b.agent_id = "spiffe://example.org/account/111111111111/region/us-east-1/agent/a1";
  b.account_id = "111111111111";
  b.region = "us-east-1";
  b.epoch = 1;
  b.sequence = seq;
  b.signed_header = "h";
  b.signature = "s";
  b.signature_algorithm = "ED25519";
  b.certificate_pem = "pem";
  for (size_t i = 0; i < raw.size(); ++i) {
    IngestEvent ie;
    ie.event.set_raw_json(raw[i]);
    ie.event.set_event_id("id-" + std::to_string(first_id + static_cast<int>(i)));
    ie.event.set_event_time_us(1700000000000000 + static_cast<int64_t>(i));
    ie.partition_region = "us-east-1";
    ie.leaf_index = static_cast<uint32_t>(i);
    b.leaf_hashes.push_back(MerkleLeafHash(raw[i]));
    b.events.push_back(std::move(ie));
  }
  auto r = store->CommitGroup({&b});
  ASSERT_TRUE(r.ok()) << r.status();
}

std::vector<std::string> Rfc6962Leaves() {
  return {std::string(""), std::string("\x00", 1), std::string("\x10"), std::string("\x20\x21"),
          std::string("\x30\x31"), std::string("\x40\x41\x42\x43"),
          std::string("\x50\x51\x52\x53\x54\x55\x56\x57"),
          std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f")};
}

TEST(MerkleLogTest, Rfc6962VectorsThroughTheCommitOrder) {
  testutil::TempDir dir("merkle-vectors");
  auto store = exporttest::OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  auto leaves = Rfc6962Leaves();
  for (size_t i = 0; i < leaves.size(); ++i) CommitRaw(store.get(), i + 1, {leaves[i]}, static_cast<int>(i));
  auto log = MerkleLog::Open(store.get(), {"example.org/orgtrail"}, nullptr);
  ASSERT_TRUE(log.ok());
  auto n = (*log)->Append();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 8u);
  const char* roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  for (uint64_t size = 1; size <= 8; ++size) {
    auto root = (*log)->Root(size);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(HexEncode(*root), roots[size - 1]) << size;
  }
  EXPECT_EQ(HexEncode(*(*log)->Root(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_FALSE((*log)->Root(9).ok());
}

// Where Append() reads the events from: the store's memory window (RecentEvents) of this many bytes.
enum class Reads { kStoreOnly, kMixed, kMemory };

// Appends 37 leaves in chunks of 1..13 and checks every root and proof against the reference.
void CheckProofsMatchTheReferenceForEverySize(Reads reads) {
  // kMixed: a window of ~2 events, so each chunk's first events are read back from RocksDB.
  const uint64_t window = reads == Reads::kStoreOnly ? 0 : reads == Reads::kMixed ? 700 : 16 << 20;
  testutil::TempDir dir("merkle-proofs");
  auto store = exporttest::OpenStore(dir.Join("db"), window);
  ASSERT_NE(store, nullptr);
  std::vector<Digest> reference;
  auto log = MerkleLog::Open(store.get(), {"example.org/orgtrail", 7}, nullptr);  // small appends
  ASSERT_TRUE(log.ok());
  int id = 0;
  uint64_t seq = 1;
  for (int chunk : {1, 2, 3, 5, 8, 13, 1, 4}) {
    std::vector<std::string> raw;
    for (int i = 0; i < chunk; ++i) {
      raw.push_back("{\"eventID\":\"e" + std::to_string(id + i) + "\"}");
      reference.push_back(MerkleLeafHash(raw.back()));
    }
    CommitRaw(store.get(), seq++, raw, id);
    id += chunk;
    while (true) {
      auto n = (*log)->Append();
      ASSERT_TRUE(n.ok());
      if (*n == 0) break;
    }
    ASSERT_EQ((*log)->size(), reference.size());
  }
  const uint64_t total = reference.size();  // 37
  for (uint64_t size = 1; size <= total; ++size) {
    std::vector<Digest> prefix(reference.begin(), reference.begin() + size);
    auto root = (*log)->Root(size);
    ASSERT_TRUE(root.ok());
    ASSERT_EQ(*root, MerkleRoot(prefix)) << size;
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = (*log)->InclusionProof(i, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, *MerkleInclusionProof(prefix, i)) << i << "/" << size;
      ASSERT_TRUE(VerifyMerkleInclusion(i, size, reference[i], *proof, *root).ok());
    }
    for (uint64_t old = 1; old < size; ++old) {
      auto proof = (*log)->ConsistencyProof(old, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, *MerkleConsistencyProof(prefix, old)) << old << "->" << size;
    }
  }
  EXPECT_FALSE((*log)->InclusionProof(5, 5).ok());
  EXPECT_FALSE((*log)->InclusionProof(0, total + 1).ok());
  EXPECT_FALSE((*log)->ConsistencyProof(10, 9).ok());
  EXPECT_EQ(*(*log)->LeafIndexOfCommit(1), 0u);
  EXPECT_EQ(*(*log)->LeafIndexOfCommit(total), total - 1);
  EXPECT_EQ((*log)->LeafIndexOfCommit(total + 1).status().code(), absl::StatusCode::kNotFound);
  // Reopen: same size, same roots.
  auto reopened = MerkleLog::Open(store.get(), {"example.org/orgtrail"}, nullptr);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), total);
  EXPECT_EQ(*(*reopened)->Root(total), MerkleRoot(reference));
  const uint64_t from_memory = (*log)->events_read_from_memory();
  const uint64_t from_store = (*log)->events_read_from_store();
  EXPECT_EQ(from_memory + from_store, total);
  switch (reads) {
    case Reads::kStoreOnly:
      EXPECT_EQ(from_memory, 0u);
      break;
    case Reads::kMixed:
      EXPECT_GT(from_memory, 0u);
      EXPECT_GT(from_store, 0u);
      break;
    case Reads::kMemory:
      EXPECT_EQ(from_store, 0u);
      break;
  }
}

TEST(MerkleLogTest, ProofsMatchTheReferenceForEverySize) { CheckProofsMatchTheReferenceForEverySize(Reads::kMemory); }

TEST(MerkleLogTest, ProofsMatchTheReferenceWhenEventsAreReadBackFromRocksDb) {
  CheckProofsMatchTheReferenceForEverySize(Reads::kStoreOnly);
}

TEST(MerkleLogTest, ProofsMatchTheReferenceWhenAppendsMixMemoryAndRocksDbReads) {
  CheckProofsMatchTheReferenceForEverySize(Reads::kMixed);
}

TEST(MerkleLogTest, CorruptProofBattery) {
  testutil::TempDir dir("merkle-corrupt");
  auto store = exporttest::OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> raw;
  for (int i = 0; i < 11; ++i) raw.push_back("{\"n\":" + std::to_string(i) + "}");
  CommitRaw(store.get(), 1, raw, 0);
  auto log = MerkleLog::Open(store.get(), {"example.org/orgtrail"}, nullptr);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append().ok());
  const Digest root = *(*log)->Root(11);
  const Digest leaf = MerkleLeafHash(raw[6]);
  auto proof = *(*log)->InclusionProof(6, 11);
  ASSERT_TRUE(VerifyMerkleInclusion(6, 11, leaf, proof, root).ok());
  std::vector<std::vector<Digest>> bad;
  for (size_t i = 0; i < proof.size(); ++i) {
    auto p = proof;
    p[i][31] ^= 0x80;
    bad.push_back(p);
  }
  bad.push_back({});
  bad.push_back(std::vector<Digest>(proof.begin(), proof.end() - 1));
  auto longer = proof;
  longer.push_back(leaf);
  bad.push_back(longer);
  auto swapped = proof;
  std::swap(swapped[0], swapped[1]);
  bad.push_back(swapped);
  for (const auto& p : bad) EXPECT_FALSE(VerifyMerkleInclusion(6, 11, leaf, p, root).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(5, 11, leaf, proof, root).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(6, 7, leaf, proof, root).ok());  // other shape
  EXPECT_FALSE(VerifyMerkleInclusion(6, 11, MerkleLeafHash("forged"), proof, root).ok());
  auto cons = *(*log)->ConsistencyProof(4, 11);
  const Digest root4 = *(*log)->Root(4);
  ASSERT_TRUE(VerifyMerkleConsistency(4, 11, cons, root4, root).ok());
  for (size_t i = 0; i < cons.size(); ++i) {
    auto p = cons;
    p[i][0] ^= 1;
    EXPECT_FALSE(VerifyMerkleConsistency(4, 11, p, root4, root).ok());
  }
  EXPECT_FALSE(VerifyMerkleConsistency(5, 11, cons, root4, root).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(4, 11, {}, root4, root).ok());
}

TEST(MerkleLogTest, SignedCheckpointsVerifyAndChain) {
  testutil::TempDir dir("merkle-checkpoint");
  auto store = exporttest::OpenStore(dir.Join("db"));
  ASSERT_NE(store, nullptr);
  auto pem = GenerateEd25519PrivateKeyPem();
  auto signer = CheckpointSigner::Create("example.org/orgtrail", *pem);
  ASSERT_TRUE(signer.ok());
  auto log = MerkleLog::Open(store.get(), {"example.org/orgtrail"}, signer->get());
  ASSERT_TRUE(log.ok());
  auto empty = (*log)->Checkpoint(1);
  ASSERT_TRUE(empty.ok());
  CommitRaw(store.get(), 1, {"a", "b", "c"}, 0);
  ASSERT_TRUE((*log)->Append().ok());
  auto cp3 = (*log)->Checkpoint(2);
  ASSERT_TRUE(cp3.ok());
  CommitRaw(store.get(), 2, {"d", "e"}, 3);
  ASSERT_TRUE((*log)->Append().ok());
  auto cp5 = (*log)->Checkpoint(3);
  ASSERT_TRUE(cp5.ok());
  EXPECT_EQ(*(*log)->LatestCheckpoint(), *cp5);
  EXPECT_EQ(*(*log)->CheckpointAt(3), *cp3);
  auto verifier = CheckpointVerifier::FromVerifierKey((*signer)->verifier_key());
  ASSERT_TRUE(verifier.ok());
  auto c3 = (*verifier)->Open(*cp3, "example.org/orgtrail");
  auto c5 = (*verifier)->Open(*cp5, "example.org/orgtrail");
  auto c0 = (*verifier)->Open(*empty, "example.org/orgtrail");
  ASSERT_TRUE(c3.ok() && c5.ok() && c0.ok());
  EXPECT_EQ(c0->size, 0u);
  EXPECT_TRUE(VerifyCheckpointConsistency(*c3, *c5, *(*log)->ConsistencyProof(3, 5)).ok());
  EXPECT_TRUE(VerifyCheckpointConsistency(*c0, *c5, {}).ok());
  EXPECT_TRUE(VerifyCheckpointInclusion(*c5, 3, MerkleLeafHash("d"), *(*log)->InclusionProof(3, 5)).ok());
  EXPECT_EQ(VerifyCheckpointConsistency(*c5, *c3, {}).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace orgtrail::collector
