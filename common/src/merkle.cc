// RFC 6962 Merkle tree hashing, proof generation (RFC 6962 §2.1.1 PATH and
// §2.1.2 SUBPROOF) and proof verification following the algorithm of
// transparency-dev/merkle (proof/verify.go): the proof is decomposed into an
// "inner" part (below the point where the paths to `index` and `size - 1`
// diverge) and a "border" part (left siblings along the right border).
#include "orgtrail/common/merkle.h"

#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "evp_sha256.h"

namespace orgtrail {
namespace {

// Largest power of two strictly smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while ((k << 1) < n) k <<= 1;
  return k;
}

int BitLength(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }
int PopCount(uint64_t x) { return __builtin_popcountll(x); }
int TrailingZeros(uint64_t x) { return x == 0 ? 64 : __builtin_ctzll(x); }

// Number of proof elements below and along the right border for a leaf at
// `index` in a tree of `size` leaves (transparency-dev decompInclProof).
void DecomposeInclusionProof(uint64_t index, uint64_t size, int* inner, int* border) {
  *inner = BitLength(index ^ (size - 1));
  *border = *inner >= 64 ? 0 : PopCount(index >> *inner);  // shifting by 64 is UB
}

using ProofIter = std::vector<Digest>::const_iterator;

Digest ChainInner(Digest seed, ProofIter begin, ProofIter end, uint64_t index) {
  int level = 0;
  for (auto it = begin; it != end; ++it, ++level) {
    seed = ((index >> level) & 1) == 0 ? MerkleNodeHash(seed, *it) : MerkleNodeHash(*it, seed);
  }
  return seed;
}

Digest ChainInnerRight(Digest seed, ProofIter begin, ProofIter end, uint64_t index) {
  int level = 0;
  for (auto it = begin; it != end; ++it, ++level) {
    if (((index >> level) & 1) == 1) seed = MerkleNodeHash(*it, seed);
  }
  return seed;
}

Digest ChainBorderRight(Digest seed, ProofIter begin, ProofIter end) {
  for (auto it = begin; it != end; ++it) seed = MerkleNodeHash(*it, seed);
  return seed;
}

Status RootMismatch(const Digest& calculated, const Digest& expected) {
  return absl::DataLossError("root mismatch: calculated " + HexEncode(calculated) +
                             ", expected " + HexEncode(expected));
}

Status WrongProofSize(size_t got, size_t want) {
  return absl::InvalidArgumentError("wrong proof size " + std::to_string(got) + ", want " +
                                    std::to_string(want));
}

// MTH over leaf_hashes[begin, end).
Digest SubtreeRoot(const std::vector<Digest>& leaves, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return MerkleEmptyRoot();
  if (n == 1) return leaves[begin];
  const uint64_t k = SplitPoint(n);
  return MerkleNodeHash(SubtreeRoot(leaves, begin, begin + k), SubtreeRoot(leaves, begin + k, end));
}

// RFC 6962 PATH(m, D[begin:end]); appends bottom-up.
void InclusionPath(const std::vector<Digest>& leaves, uint64_t m, uint64_t begin, uint64_t end,
                   std::vector<Digest>* out) {
  const uint64_t n = end - begin;
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    InclusionPath(leaves, m, begin, begin + k, out);
    out->push_back(SubtreeRoot(leaves, begin + k, end));
  } else {
    InclusionPath(leaves, m - k, begin + k, end, out);
    out->push_back(SubtreeRoot(leaves, begin, begin + k));
  }
}

// RFC 6962 SUBPROOF(m, D[begin:end], b); appends bottom-up.
void SubProof(const std::vector<Digest>& leaves, uint64_t m, uint64_t begin, uint64_t end,
              bool complete_subtree, std::vector<Digest>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete_subtree) out->push_back(SubtreeRoot(leaves, begin, end));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(leaves, m, begin, begin + k, complete_subtree, out);
    out->push_back(SubtreeRoot(leaves, begin + k, end));
  } else {
    SubProof(leaves, m - k, begin + k, end, false, out);
    out->push_back(SubtreeRoot(leaves, begin, begin + k));
  }
}

Digest HashWithPrefix(uint8_t prefix, std::string_view a, std::string_view b) {
  Digest out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, FetchedSha256(), nullptr);
  EVP_DigestUpdate(ctx, &prefix, 1);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}


}  // namespace

Digest MerkleLeafHash(std::string_view leaf_data) { return HashWithPrefix(0x00, leaf_data, {}); }

Digest MerkleNodeHash(const Digest& left, const Digest& right) {
  unsigned char buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  Digest out{};
  unsigned int len = 0;
  EVP_Digest(buf, sizeof(buf), out.data(), &len, FetchedSha256(), nullptr);
  return out;
}

Digest MerkleEmptyRoot() { return Sha256(""); }

// Bottom-up: pair neighbours level by level; an odd last node is promoted
// unchanged, which yields exactly RFC 6962's MTH.
Digest MerkleRoot(const std::vector<Digest>& leaf_hashes) {
  if (leaf_hashes.empty()) return MerkleEmptyRoot();
  std::vector<Digest> level = leaf_hashes;
  size_t n = level.size();
  while (n > 1) {
    size_t out = 0;
    for (size_t i = 0; i + 1 < n; i += 2) level[out++] = MerkleNodeHash(level[i], level[i + 1]);
    if (n % 2 == 1) level[out++] = level[n - 1];
    n = out;
  }
  return level[0];
}

StatusOr<std::vector<Digest>> MerkleInclusionProof(const std::vector<Digest>& leaf_hashes,
                                                   uint64_t index) {
  if (index >= leaf_hashes.size()) {
    return absl::InvalidArgumentError("inclusion proof: index " + std::to_string(index) +
                                      " is beyond size " + std::to_string(leaf_hashes.size()));
  }
  std::vector<Digest> proof;
  InclusionPath(leaf_hashes, index, 0, leaf_hashes.size(), &proof);
  return proof;
}

StatusOr<std::vector<Digest>> MerkleConsistencyProof(const std::vector<Digest>& leaf_hashes,
                                                     uint64_t old_size) {
  if (old_size > leaf_hashes.size()) {
    return absl::InvalidArgumentError("consistency proof: old size " + std::to_string(old_size) +
                                      " is beyond size " + std::to_string(leaf_hashes.size()));
  }
  std::vector<Digest> proof;
  if (old_size == 0 || old_size == leaf_hashes.size()) return proof;
  SubProof(leaf_hashes, old_size, 0, leaf_hashes.size(), true, &proof);
  return proof;
}

StatusOr<Digest> MerkleRootFromInclusionProof(uint64_t index, uint64_t size,
                                              const Digest& leaf_hash,
                                              const std::vector<Digest>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError("inclusion proof: index is beyond size: " +
                                      std::to_string(index) + " >= " + std::to_string(size));
  }
  int inner = 0;
  int border = 0;
  DecomposeInclusionProof(index, size, &inner, &border);
  const size_t want = static_cast<size_t>(inner) + static_cast<size_t>(border);
  if (proof.size() != want) return WrongProofSize(proof.size(), want);
  Digest res = ChainInner(leaf_hash, proof.begin(), proof.begin() + inner, index);
  return ChainBorderRight(res, proof.begin() + inner, proof.end());
}

Status VerifyMerkleInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             const std::vector<Digest>& proof, const Digest& root) {
  StatusOr<Digest> calculated = MerkleRootFromInclusionProof(index, size, leaf_hash, proof);
  if (!calculated.ok()) return calculated.status();
  if (*calculated != root) return RootMismatch(*calculated, root);
  return absl::OkStatus();
}

// Sizes 0 < size1 < size2 follow transparency-dev. Edge cases (our choice,
// strict): size1 == size2 needs an empty proof and root1 == root2;
// size1 == 0 < size2 needs an empty proof and root1 == the empty-tree root.
Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, const std::vector<Digest>& proof,
                               const Digest& root1, const Digest& root2) {
  if (size2 < size1) {
    return absl::InvalidArgumentError("consistency proof: size2 (" + std::to_string(size2) +
                                      ") < size1 (" + std::to_string(size1) + ")");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError("consistency proof: size1 == size2 but proof is not empty");
    }
    if (root1 != root2) return RootMismatch(root1, root2);
    return absl::OkStatus();
  }
  if (size1 == 0) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError("consistency proof: from the empty tree must be empty");
    }
    if (root1 != MerkleEmptyRoot()) return RootMismatch(MerkleEmptyRoot(), root1);
    return absl::OkStatus();
  }
  if (proof.empty()) return absl::InvalidArgumentError("consistency proof: empty proof");

  int inner = 0;
  int border = 0;
  DecomposeInclusionProof(size1 - 1, size2, &inner, &border);
  const int shift = TrailingZeros(size1);
  inner -= shift;  // shift < inner because size1 < size2

  // The proof starts with the root of the subtree of size 2^shift, unless
  // size1 is exactly that power of two (then root1 is the seed).
  const bool size1_is_power = size1 == (uint64_t{1} << shift);
  const Digest seed = size1_is_power ? root1 : proof[0];
  const size_t start = size1_is_power ? 0 : 1;
  const size_t want = start + static_cast<size_t>(inner) + static_cast<size_t>(border);
  if (proof.size() != want) return WrongProofSize(proof.size(), want);

  const ProofIter rest = proof.begin() + start;
  const uint64_t mask = (size1 - 1) >> shift;
  Digest hash1 = ChainInnerRight(seed, rest, rest + inner, mask);
  hash1 = ChainBorderRight(hash1, rest + inner, proof.end());
  if (hash1 != root1) return RootMismatch(hash1, root1);

  Digest hash2 = ChainInner(seed, rest, rest + inner, mask);
  hash2 = ChainBorderRight(hash2, rest + inner, proof.end());
  if (hash2 != root2) return RootMismatch(hash2, root2);
  return absl::OkStatus();
}

}  // namespace orgtrail
