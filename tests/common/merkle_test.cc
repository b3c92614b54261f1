// RFC 6962 Merkle tree: transparency-dev/merkle reference vectors (8-leaf
// corpus from proof/verify_test.go), the corrupt-proof battery of that test
// suite, and exhaustive generate-then-verify over trees of 1..70 leaves.
#include "orgtrail/common/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orgtrail {
namespace {

Digest D(const std::string& hex) {
  auto raw = HexDecode(hex);
  EXPECT_TRUE(raw.ok()) << hex;
  auto d = DigestFromString(*raw);
  EXPECT_TRUE(d.ok()) << hex;
  return *d;
}

std::vector<std::string> CorpusLeaves() {
  const char* hex[] = {"",         "00",       "10",
                       "2021",     "3031",     "40414243",
                       "5051525354555657", "606162636465666768696a6b6c6d6e6f"};
  std::vector<std::string> out;
  for (const char* h : hex) out.push_back(*HexDecode(h));
  return out;
}

std::vector<Digest> CorpusLeafHashes() {
  std::vector<Digest> out;
  for (const auto& leaf : CorpusLeaves()) out.push_back(MerkleLeafHash(leaf));
  return out;
}

const std::vector<std::string>& ReferenceRoots() {
  static const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  return roots;
}

struct InclusionVector {
  uint64_t leaf;  // 1-based, as in the reference
  uint64_t size;
  std::vector<std::string> proof;
};

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  std::vector<std::string> proof;
};

const std::vector<InclusionVector>& ReferenceInclusionProofs() {
  static const std::vector<InclusionVector> v = {
      {1, 1, {}},
      {1, 8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {3, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {2, 5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  return v;
}

const std::vector<ConsistencyVector>& ReferenceConsistencyProofs() {
  static const std::vector<ConsistencyVector> v = {
      {1, 1, {}},
      {1, 8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6, 8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6, 7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  return v;
}

std::vector<Digest> Decode(const std::vector<std::string>& hexes) {
  std::vector<Digest> out;
  for (const auto& h : hexes) out.push_back(D(h));
  return out;
}

const Digest kSomeHash = D("abacaba000000000000000000000000000000000000000000060061e00123456");
const Digest kZeroHash{};

std::vector<Digest> Append(std::vector<Digest> proof, const Digest& d) {
  proof.push_back(d);
  return proof;
}
std::vector<Digest> Prepend(std::vector<Digest> proof, const Digest& d) {
  proof.insert(proof.begin(), d);
  return proof;
}

struct InclusionProbe {
  uint64_t index;
  uint64_t size;
  Digest root;
  Digest leaf;
  std::vector<Digest> proof;
  std::string desc;
};

// The battery of transparency-dev/merkle corruptInclusionProof. Elements of
// our proofs are fixed 32-byte digests, so "garbage" is an all-zero digest.
// bit_step: flip every bit_step-th bit of each element (37 -> 7 bits per
// element for the reference vectors; 256 -> one bit for generated trees).
std::vector<InclusionProbe> CorruptInclusion(uint64_t index, uint64_t size,
                                             const std::vector<Digest>& proof, const Digest& root,
                                             const Digest& leaf, int bit_step) {
  std::vector<InclusionProbe> probes = {
      {index - 1, size, root, leaf, proof, "index - 1"},
      {index + 1, size, root, leaf, proof, "index + 1"},
      {index ^ 2, size, root, leaf, proof, "index ^ 2"},
      {index, size * 2, root, leaf, proof, "size * 2"},
      {index, size / 2, root, leaf, proof, "size / 2"},
      {index, size, root, Sha256("WrongLeaf"), proof, "wrong leaf"},
      {index, size, MerkleEmptyRoot(), leaf, proof, "empty root"},
      {index, size, kSomeHash, leaf, proof, "random root"},
      {index, size, root, leaf, Append(proof, kZeroHash), "trailing garbage"},
      {index, size, root, leaf, Append(proof, root), "trailing root"},
      {index, size, root, leaf, Prepend(proof, kZeroHash), "preceding garbage"},
      {index, size, root, leaf, Prepend(proof, root), "preceding root"},
  };
  if (!proof.empty()) {
    probes.push_back({index, size, root, leaf, {}, "empty proof"});
  }
  for (size_t i = 0; i < proof.size(); ++i) {
    for (int bit = 3; bit < 256; bit += bit_step) {
      std::vector<Digest> wrong = proof;
      wrong[i][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      probes.push_back({index, size, root, leaf, wrong,
                        "proof[" + std::to_string(i) + "] bit " + std::to_string(bit)});
    }
  }
  if (!proof.empty()) {
    probes.push_back({index, size, root, leaf, std::vector<Digest>(proof.begin(), proof.end() - 1),
                      "removed component"});
  }
  if (proof.size() > 1) {
    std::vector<Digest> wrong = proof;
    wrong.insert(wrong.begin() + 1, kSomeHash);
    probes.push_back({index, size, root, leaf, wrong, "inserted component"});
  }
  return probes;
}

struct ConsistencyProbe {
  uint64_t size1;
  uint64_t size2;
  Digest root1;
  Digest root2;
  std::vector<Digest> proof;
  std::string desc;
};

std::vector<ConsistencyProbe> CorruptConsistency(uint64_t size1, uint64_t size2,
                                                 const Digest& root1, const Digest& root2,
                                                 const std::vector<Digest>& proof, int bit_step) {
  const Digest wrong_root = Sha256("WrongRoot");
  std::vector<ConsistencyProbe> probes = {
      {size1 - 1, size2, root1, root2, proof, "size1 - 1"},
      {size1 + 1, size2, root1, root2, proof, "size1 + 1"},
      {size1 ^ 2, size2, root1, root2, proof, "size1 ^ 2"},
      {size1, size2 * 2, root1, root2, proof, "size2 * 2"},
      {size1, size2 / 2, root1, root2, proof, "size2 / 2"},
      {size1, size2, wrong_root, root2, proof, "wrong root1"},
      {size1, size2, root1, wrong_root, proof, "wrong root2"},
      {size1, size2, root2, root1, proof, "swapped roots"},
      {size1, size2, MerkleEmptyRoot(), root2, proof, "empty root1"},
      {size1, size2, root1, kSomeHash, proof, "random root2"},
      {size1, size2, root1, root2, {}, "empty proof"},
      {size1, size2, root1, root2, Append(proof, kZeroHash), "trailing garbage"},
      {size1, size2, root1, root2, Append(proof, root1), "trailing root1"},
      {size1, size2, root1, root2, Append(proof, root2), "trailing root2"},
      {size1, size2, root1, root2, Prepend(proof, kZeroHash), "preceding garbage"},
      {size1, size2, root1, root2, Prepend(proof, root1), "preceding root1"},
      {size1, size2, root1, root2, Prepend(proof, root2), "preceding root2"},
      {size1, size2, root1, root2, Prepend(proof, proof[0]), "preceding proof[0]"},
      {size1, size2, root1, root2, std::vector<Digest>(proof.begin(), proof.end() - 1),
       "truncated proof"},
      {size1, size2, root1, root2, std::vector<Digest>(proof.begin() + 1, proof.end()),
       "missing first element"},
  };
  for (size_t i = 0; i < proof.size(); ++i) {
    for (int bit = 3; bit < 256; bit += bit_step) {
      std::vector<Digest> wrong = proof;
      wrong[i][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      probes.push_back({size1, size2, root1, root2, wrong,
                        "proof[" + std::to_string(i) + "] bit " + std::to_string(bit)});
    }
  }
  return probes;
}

void ExpectInclusionBatteryRejected(uint64_t index, uint64_t size,
                                    const std::vector<Digest>& proof, const Digest& root,
                                    const Digest& leaf, int bit_step = 37) {
  for (const auto& p : CorruptInclusion(index, size, proof, root, leaf, bit_step)) {
    const Status s = VerifyMerkleInclusion(p.index, p.size, p.leaf, p.proof, p.root);
    EXPECT_FALSE(s.ok()) << "accepted corrupted inclusion proof (" << p.desc << ") for index "
                         << index << " size " << size;
    EXPECT_TRUE(s.code() == absl::StatusCode::kInvalidArgument ||
                s.code() == absl::StatusCode::kDataLoss)
        << s;
  }
}

void ExpectConsistencyBatteryRejected(uint64_t size1, uint64_t size2, const Digest& root1,
                                      const Digest& root2, const std::vector<Digest>& proof,
                                      int bit_step = 37) {
  for (const auto& p : CorruptConsistency(size1, size2, root1, root2, proof, bit_step)) {
    const Status s = VerifyMerkleConsistency(p.size1, p.size2, p.proof, p.root1, p.root2);
    EXPECT_FALSE(s.ok()) << "accepted corrupted consistency proof (" << p.desc << ") for "
                         << size1 << " -> " << size2;
  }
}

TEST(MerkleTest, LeafAndNodeHashes) {
  // RFC 6962 leaf hash of the empty leaf and the empty tree root.
  EXPECT_EQ(HexEncode(MerkleLeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(HexEncode(MerkleEmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MerkleRoot({}), MerkleEmptyRoot());
  EXPECT_EQ(MerkleLeafHash("abc"), Sha256(std::string("\0abc", 4)));
  const Digest a = Sha256("a");
  const Digest b = Sha256("b");
  EXPECT_EQ(MerkleNodeHash(a, b),
            Sha256("\x01" + DigestToString(a) + DigestToString(b)));
  EXPECT_NE(MerkleNodeHash(a, b), MerkleNodeHash(b, a));
}

TEST(MerkleTest, ReferenceRootsForSizes1To8) {
  const std::vector<Digest> leaves = CorpusLeafHashes();
  for (size_t size = 1; size <= 8; ++size) {
    std::vector<Digest> prefix(leaves.begin(), leaves.begin() + size);
    EXPECT_EQ(HexEncode(MerkleRoot(prefix)), ReferenceRoots()[size - 1]) << "size " << size;
  }
}

TEST(MerkleTest, ReferenceInclusionProofsGenerateAndVerify) {
  const std::vector<Digest> leaves = CorpusLeafHashes();
  for (const auto& v : ReferenceInclusionProofs()) {
    SCOPED_TRACE("leaf " + std::to_string(v.leaf) + " size " + std::to_string(v.size));
    const std::vector<Digest> expected = Decode(v.proof);
    std::vector<Digest> prefix(leaves.begin(), leaves.begin() + v.size);
    auto generated = MerkleInclusionProof(prefix, v.leaf - 1);
    ASSERT_TRUE(generated.ok()) << generated.status();
    EXPECT_EQ(*generated, expected);

    const Digest root = D(ReferenceRoots()[v.size - 1]);
    const Digest leaf = leaves[v.leaf - 1];
    auto calculated = MerkleRootFromInclusionProof(v.leaf - 1, v.size, leaf, expected);
    ASSERT_TRUE(calculated.ok()) << calculated.status();
    EXPECT_EQ(*calculated, root);
    EXPECT_TRUE(VerifyMerkleInclusion(v.leaf - 1, v.size, leaf, expected, root).ok());
    ExpectInclusionBatteryRejected(v.leaf - 1, v.size, expected, root, leaf);
  }
}

TEST(MerkleTest, ReferenceConsistencyProofsGenerateAndVerify) {
  const std::vector<Digest> leaves = CorpusLeafHashes();
  for (const auto& v : ReferenceConsistencyProofs()) {
    SCOPED_TRACE(std::to_string(v.size1) + " -> " + std::to_string(v.size2));
    const std::vector<Digest> expected = Decode(v.proof);
    std::vector<Digest> prefix(leaves.begin(), leaves.begin() + v.size2);
    auto generated = MerkleConsistencyProof(prefix, v.size1);
    ASSERT_TRUE(generated.ok()) << generated.status();
    EXPECT_EQ(*generated, expected);

    const Digest root1 = D(ReferenceRoots()[v.size1 - 1]);
    const Digest root2 = D(ReferenceRoots()[v.size2 - 1]);
    EXPECT_TRUE(VerifyMerkleConsistency(v.size1, v.size2, expected, root1, root2).ok());
    if (!expected.empty()) ExpectConsistencyBatteryRejected(v.size1, v.size2, root1, root2, expected);
  }
}

TEST(MerkleTest, InclusionEdgeCases) {
  const Digest leaf = MerkleLeafHash("data");
  // A one-leaf tree: root == leaf hash, empty proof.
  EXPECT_TRUE(VerifyMerkleInclusion(0, 1, leaf, {}, leaf).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 1, leaf, {}, MerkleEmptyRoot()).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 1, kSomeHash, {}, leaf).ok());
  for (auto [index, size] : std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}, {1, 0}, {2, 1}}) {
    EXPECT_FALSE(VerifyMerkleInclusion(index, size, kSomeHash, {}, MerkleEmptyRoot()).ok());
    EXPECT_EQ(VerifyMerkleInclusion(index, size, kSomeHash, {}, MerkleEmptyRoot()).code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(VerifyMerkleInclusion(0, 1, leaf, {}, kSomeHash).code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(MerkleInclusionProof({}, 0).ok());
  EXPECT_FALSE(MerkleInclusionProof({leaf}, 1).ok());
  // Huge sizes must not overflow or loop.
  EXPECT_FALSE(VerifyMerkleInclusion(UINT64_MAX - 1, UINT64_MAX, leaf, {}, leaf).ok());
}

TEST(MerkleTest, ConsistencyEdgeCases) {
  const Digest r1 = Sha256("root 1");
  const Digest r2 = Sha256("root 2");
  const Digest empty = MerkleEmptyRoot();
  EXPECT_FALSE(VerifyMerkleConsistency(0, 0, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(1, 1, {}, r1, r2).ok());
  EXPECT_TRUE(VerifyMerkleConsistency(0, 0, {}, r1, r1).ok());
  EXPECT_TRUE(VerifyMerkleConsistency(1, 1, {}, r2, r2).ok());
  EXPECT_TRUE(VerifyMerkleConsistency(0, 1, {}, empty, r2).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(0, 1, {}, r1, r2).ok());  // root1 must be the empty root
  EXPECT_FALSE(VerifyMerkleConsistency(1, 0, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(2, 1, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(1, 2, {}, r1, r2).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(0, 0, {empty}, empty, empty).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(0, 1, {empty}, empty, empty).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(1, 1, {empty}, empty, empty).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(1, UINT64_MAX, {empty}, empty, empty).ok());
  EXPECT_FALSE(MerkleConsistencyProof({r1}, 2).ok());
}

// Distinct pseudo-random leaves for generated trees.
std::vector<Digest> GeneratedLeaves(size_t n) {
  std::vector<Digest> out;
  for (size_t i = 0; i < n; ++i) out.push_back(MerkleLeafHash("leaf-" + std::to_string(i * 7919)));
  return out;
}

// Independent recursive MTH (RFC 6962 §2.1 literally) for cross-checking.
Digest ReferenceMth(const std::vector<Digest>& leaves, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 0) return MerkleEmptyRoot();
  if (n == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return MerkleNodeHash(ReferenceMth(leaves, begin, begin + k), ReferenceMth(leaves, begin + k, end));
}

TEST(MerkleTest, GeneratedTreesOneTo70AllInclusionProofsVerify) {
  const std::vector<Digest> all = GeneratedLeaves(70);
  for (size_t size = 1; size <= 70; ++size) {
    std::vector<Digest> leaves(all.begin(), all.begin() + size);
    const Digest root = MerkleRoot(leaves);
    ASSERT_EQ(root, ReferenceMth(leaves, 0, size)) << size;
    for (size_t index = 0; index < size; ++index) {
      auto proof = MerkleInclusionProof(leaves, index);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(VerifyMerkleInclusion(index, size, leaves[index], *proof, root).ok())
          << "index " << index << " size " << size;
      // The wrong leaf (a neighbour's) must never verify.
      if (size > 1) {
        EXPECT_FALSE(
            VerifyMerkleInclusion(index, size, leaves[(index + 1) % size], *proof, root).ok());
      }
    }
  }
}

TEST(MerkleTest, GeneratedTreesCorruptInclusionBatteryRejected) {
  const std::vector<Digest> all = GeneratedLeaves(70);
  for (size_t size : {1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 65, 70}) {
    std::vector<Digest> leaves(all.begin(), all.begin() + size);
    const Digest root = MerkleRoot(leaves);
    for (size_t index = 0; index < size; ++index) {
      auto proof = MerkleInclusionProof(leaves, index);
      ASSERT_TRUE(proof.ok());
      ExpectInclusionBatteryRejected(index, size, *proof, root, leaves[index], /*bit_step=*/256);
    }
  }
}

TEST(MerkleTest, GeneratedTreesOneTo70AllConsistencyProofsVerify) {
  const std::vector<Digest> all = GeneratedLeaves(70);
  std::vector<Digest> roots(71);
  for (size_t n = 0; n <= 70; ++n) {
    roots[n] = MerkleRoot(std::vector<Digest>(all.begin(), all.begin() + n));
  }
  for (size_t size2 = 1; size2 <= 70; ++size2) {
    std::vector<Digest> leaves(all.begin(), all.begin() + size2);
    for (size_t size1 = 0; size1 <= size2; ++size1) {
      auto proof = MerkleConsistencyProof(leaves, size1);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(VerifyMerkleConsistency(size1, size2, *proof, roots[size1], roots[size2]).ok())
          << size1 << " -> " << size2;
      if (size1 > 0 && size1 < size2) {
        ExpectConsistencyBatteryRejected(size1, size2, roots[size1], roots[size2], *proof,
                                         /*bit_step=*/256);
      }
    }
  }
}

}  // namespace
}  // namespace orgtrail
