// RFC 6962 Merkle trees: leaf and node hashes, roots, inclusion and
// consistency proofs (generation and verification). Pure functions,
// thread-safe. Verification follows transparency-dev/merkle's algorithm and
// rejects every malformed proof with a descriptive INVALID_ARGUMENT or
// DATA_LOSS ("root mismatch") status.
#ifndef ORGTRAIL_COMMON_MERKLE_H_
#define ORGTRAIL_COMMON_MERKLE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/status.h"

namespace orgtrail {

Digest MerkleLeafHash(std::string_view leaf_data);               // SHA-256(0x00 || data)
Digest MerkleNodeHash(const Digest& left, const Digest& right);   // SHA-256(0x01 || l || r)
Digest MerkleEmptyRoot();                                         // SHA-256("")

// Root over leaf hashes (MTH in RFC 6962 §2.1). Empty input: MerkleEmptyRoot().
Digest MerkleRoot(const std::vector<Digest>& leaf_hashes);

// Audit path for leaf `index` in the tree of all leaf_hashes.
StatusOr<std::vector<Digest>> MerkleInclusionProof(const std::vector<Digest>& leaf_hashes,
                                                   uint64_t index);
// Consistency proof between the first `old_size` leaves and all of them.
StatusOr<std::vector<Digest>> MerkleConsistencyProof(const std::vector<Digest>& leaf_hashes,
                                                     uint64_t old_size);

Status VerifyMerkleInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             const std::vector<Digest>& proof, const Digest& root);
Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, const std::vector<Digest>& proof,
                               const Digest& root1, const Digest& root2);

// Root implied by an inclusion proof (for callers that compare roots themselves).
StatusOr<Digest> MerkleRootFromInclusionProof(uint64_t index, uint64_t size,
                                              const Digest& leaf_hash,
                                              const std::vector<Digest>& proof);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_MERKLE_H_
