// C2SP checkpoints: signing and opening notes, hostile notes and verifier
// keys, and the offline consistency/inclusion checks (rolled-back and forked
// logs, corrupted proofs).
#include "orgtrail/common/checkpoint.h"

#include <gtest/gtest.h>

#include "orgtrail/common/merkle.h"

namespace orgtrail {
namespace {

std::vector<Digest> Leaves(int n) {
  std::vector<Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(MerkleLeafHash("leaf-" + std::to_string(i)));
  return out;
}

Checkpoint At(const std::vector<Digest>& leaves, size_t n) {
  std::vector<Digest> prefix(leaves.begin(), leaves.begin() + n);
  return Checkpoint{"example.org/orgtrail", n, MerkleRoot(prefix)};
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pem = GenerateEd25519PrivateKeyPem();
    ASSERT_TRUE(pem.ok());
    auto signer = CheckpointSigner::Create("example.org/orgtrail", *pem);
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::move(*signer);
    auto verifier = CheckpointVerifier::FromVerifierKey(signer_->verifier_key());
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::move(*verifier);
  }
  std::unique_ptr<CheckpointSigner> signer_;
  std::unique_ptr<CheckpointVerifier> verifier_;
};

TEST_F(CheckpointTest, SignAndOpenRoundTrip) {
  auto leaves = Leaves(7);
  Checkpoint cp = At(leaves, 7);
  auto note = signer_->Sign(cp);
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->substr(0, 23), "example.org/orgtrail\n7\n");
  EXPECT_NE(note->find("\n\n\xE2\x80\x94 example.org/orgtrail "), std::string::npos) << *note;
  auto opened = verifier_->Open(*note, "example.org/orgtrail");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->size, 7u);
  EXPECT_EQ(opened->root, cp.root);
  EXPECT_FALSE(verifier_->Open(*note, "other/origin").ok());
  EXPECT_EQ(signer_->verifier_key().substr(0, 21), "example.org/orgtrail+");
}

TEST_F(CheckpointTest, TamperedOrHostileNotesAreRefused) {
  auto note = signer_->Sign(At(Leaves(3), 3));
  ASSERT_TRUE(note.ok());
  std::string size_changed = *note;
  size_changed[size_changed.find("\n3\n") + 1] = '4';
  EXPECT_EQ(verifier_->Open(size_changed).status().code(), absl::StatusCode::kUnauthenticated);
  auto other_pem = GenerateEd25519PrivateKeyPem();
  auto other = CheckpointSigner::Create("example.org/orgtrail", *other_pem);
  ASSERT_TRUE(other.ok());
  auto forged = (*other)->Sign(At(Leaves(3), 3));
  EXPECT_EQ(verifier_->Open(*forged).status().code(), absl::StatusCode::kUnauthenticated);
  const std::string body = FormatCheckpointBody(At(Leaves(3), 3));
  for (const std::string& bad : {std::string(""), std::string("garbage"), body, body + "\n",
                                 body + "\nno dash line\n", body + "\n\xE2\x80\x94 example.org/orgtrail !!!\n",
                                 std::string("o\n03\nAAAA\n\n") + note->substr(note->find("\xE2\x80\x94")),
                                 std::string(70000, 'x'), std::string("\n\n\n\n")}) {
    auto r = verifier_->Open(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(CheckpointBodyTest, ParsesOnlyCanonicalBodies) {
  Checkpoint cp{"o", 5, MerkleLeafHash("x")};
  auto parsed = ParseCheckpointBody(FormatCheckpointBody(cp));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->root, cp.root);
  const std::string root = FormatCheckpointBody(cp).substr(4);
  for (const std::string& bad : std::vector<std::string>{"o\n05\n" + root, "o\n-5\n" + root, "o\n5\nAAAA\n", "\n5\n" + root,
                                 "o\n5\n" + root + "ext\n", "o\n5", "o\n99999999999999999999999\n" + root,
                                 "o\n5\n" + root.substr(0, root.size() - 1)}) {
    EXPECT_FALSE(ParseCheckpointBody(bad).ok()) << bad;
  }
}

TEST(CheckpointVerifierKeyTest, RejectsMalformedKeys) {
  for (const char* bad : {"", "name", "name+abcd", "name+zzzzzzzz+AQ==", "name+00000000+AQ==",
                          "na me+00000000+AQ==", "+00000000+AQ=="}) {
    EXPECT_FALSE(CheckpointVerifier::FromVerifierKey(bad).ok()) << bad;
  }
}

TEST(CheckpointProofTest, ConsistencyAndRollback) {
  auto leaves = Leaves(20);
  for (size_t m = 1; m <= 20; ++m) {
    for (size_t n = m; n <= 20; ++n) {
      std::vector<Digest> prefix(leaves.begin(), leaves.begin() + n);
      auto proof = m == n ? StatusOr<std::vector<Digest>>(std::vector<Digest>{})
                          : MerkleConsistencyProof(prefix, m);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyCheckpointConsistency(At(leaves, m), At(leaves, n), *proof).ok()) << m << " " << n;
      if (!proof->empty()) {
        auto bad = *proof;
        bad[0][0] ^= 1;
        EXPECT_FALSE(VerifyCheckpointConsistency(At(leaves, m), At(leaves, n), bad).ok());
        bad = *proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyCheckpointConsistency(At(leaves, m), At(leaves, n), bad).ok());
      }
    }
  }
  // Rolled back: the "newer" checkpoint is smaller.
  EXPECT_EQ(VerifyCheckpointConsistency(At(leaves, 10), At(leaves, 9), {}).code(),
            absl::StatusCode::kFailedPrecondition);
  // Forked: same size, different root.
  Checkpoint forked = At(leaves, 10);
  forked.root[3] ^= 1;
  EXPECT_EQ(VerifyCheckpointConsistency(At(leaves, 10), forked, {}).code(), absl::StatusCode::kDataLoss);
  Checkpoint other_origin = At(leaves, 12);
  other_origin.origin = "x";
  EXPECT_FALSE(VerifyCheckpointConsistency(At(leaves, 10), other_origin, {}).ok());
}

TEST(CheckpointProofTest, Inclusion) {
  auto leaves = Leaves(13);
  Checkpoint cp = At(leaves, 13);
  for (uint64_t i = 0; i < 13; ++i) {
    auto proof = MerkleInclusionProof(leaves, i);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(VerifyCheckpointInclusion(cp, i, leaves[i], *proof).ok());
    EXPECT_FALSE(VerifyCheckpointInclusion(cp, i, MerkleLeafHash("rewritten"), *proof).ok());
  }
  EXPECT_FALSE(VerifyCheckpointInclusion(cp, 13, leaves[0], {}).ok());
}

}  // namespace
}  // namespace orgtrail
