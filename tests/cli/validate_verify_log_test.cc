// orgtrailctl verify-log, offline, with the real binary: consistent
// checkpoints pass; a rolled-back or forked log, a forged signature, a
// corrupted proof and hostile files fail with INVALID and exit 1; bad flags
// are usage errors (exit 2).
#include <gtest/gtest.h>

#include "orgtrail/common/checkpoint.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/pki.h"
#include "testutil/subprocess.h"
#include "testutil/temp_dir.h"

namespace orgtrail {
namespace {

class VerifyLogCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pem = GenerateEd25519PrivateKeyPem();
    ASSERT_TRUE(pem.ok());
    auto signer = CheckpointSigner::Create("example.org/orgtrail", *pem);
    ASSERT_TRUE(signer.ok());
    signer_ = std::move(*signer);
    for (int i = 0; i < 40; ++i) leaves_.push_back(MerkleLeafHash("event-" + std::to_string(i)));
  }
  std::string Note(size_t n, const CheckpointSigner* signer = nullptr) {
    std::vector<Digest> prefix(leaves_.begin(), leaves_.begin() + n);
    auto note = (signer ? signer : signer_.get())->Sign(Checkpoint{"example.org/orgtrail", n, MerkleRoot(prefix)});
    EXPECT_TRUE(note.ok());
    return *note;
  }
  std::string File(const std::string& name, const std::string& contents) {
    std::string path = dir_.Join(name);
    EXPECT_TRUE(WriteFileAtomically(path, contents, 0644).ok());
    return path;
  }
  std::string ProofFile(const std::string& name, size_t m, size_t n) {
    std::vector<Digest> prefix(leaves_.begin(), leaves_.begin() + n);
    auto proof = MerkleConsistencyProof(prefix, m);
    EXPECT_TRUE(proof.ok());
    std::string text;
    for (const auto& d : *proof) text += Base64Encode(DigestToString(d)) + "\n";
    return File(name, text);
  }
  struct Run {
    int code = -1;
    std::string out, err;
  };
  Run VerifyLog(std::vector<std::string> args) {
    testutil::SubprocessOptions o;
    o.binary = std::string(ORGTRAIL_BINARY_DIR) + "/cli/orgtrailctl";
    o.args = {"verify-log"};
    o.args.insert(o.args.end(), args.begin(), args.end());
    o.log_dir = dir_.path();
    o.name = "verify-log-" + std::to_string(runs_++);
    auto p = testutil::Subprocess::Start(o);
    EXPECT_TRUE(p.ok());
    Run r;
    if (!p.ok()) return r;
    EXPECT_TRUE((*p)->Wait(std::chrono::seconds(60)).has_value());
    r.code = (*p)->ExitCode();
    r.out = (*p)->ReadStdout();
    r.err = (*p)->ReadStderr();
    return r;
  }
  std::vector<std::string> Offline(const std::string& old_cp, const std::string& new_cp, const std::string& proof) {
    return {"--verifier-key", signer_->verifier_key(), "--old-checkpoint", old_cp, "--new-checkpoint", new_cp,
            "--proof", proof};
  }

  testutil::TempDir dir_{"verify-log-cli"};
  std::unique_ptr<CheckpointSigner> signer_;
  std::vector<Digest> leaves_;
  int runs_ = 0;
};

TEST_F(VerifyLogCliTest, ConsistentCheckpointsPass) {
  Run r = VerifyLog(Offline(File("a", Note(13)), File("b", Note(40)), ProofFile("p", 13, 40)));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("checkpoint 13 -> 40: consistent"), std::string::npos) << r.out;
  Run same = VerifyLog(Offline(File("a2", Note(13)), File("b2", Note(13)), File("empty", "")));
  EXPECT_EQ(same.code, 0) << same.err;
  // The verifier key can come from a file.
  Run keyfile = VerifyLog({"--verifier-key-file", File("vkey", signer_->verifier_key() + "\n"), "--old-checkpoint",
                           File("a3", Note(8)), "--new-checkpoint", File("b3", Note(16)), "--proof",
                           ProofFile("p3", 8, 16)});
  EXPECT_EQ(keyfile.code, 0) << keyfile.err;
}

TEST_F(VerifyLogCliTest, RolledBackLogIsDetected) {
  Run r = VerifyLog(Offline(File("a", Note(40)), File("b", Note(25)), File("p", "")));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("INVALID: checkpoint 40 -> 25: log rolled back"), std::string::npos) << r.err;
}

TEST_F(VerifyLogCliTest, ForkedLogIsDetected) {
  // Same size, different history.
  std::vector<Digest> other = leaves_;
  other[3] = MerkleLeafHash("rewritten");
  std::vector<Digest> prefix(other.begin(), other.begin() + 20);
  auto forked = signer_->Sign(Checkpoint{"example.org/orgtrail", 20, MerkleRoot(prefix)});
  Run r = VerifyLog(Offline(File("a", Note(20)), File("b", *forked), File("p", "")));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("INVALID"), std::string::npos);
  // Larger size but rewritten prefix: the honest proof does not connect.
  std::vector<Digest> prefix30(other.begin(), other.begin() + 30);
  auto grown = signer_->Sign(Checkpoint{"example.org/orgtrail", 30, MerkleRoot(prefix30)});
  Run r2 = VerifyLog(Offline(File("a2", Note(20)), File("b2", *grown), ProofFile("p2", 20, 30)));
  EXPECT_EQ(r2.code, 1);
  EXPECT_NE(r2.err.find("root mismatch"), std::string::npos) << r2.err;
}

TEST_F(VerifyLogCliTest, ForgedSignatureCorruptProofAndHostileFilesFail) {
  auto pem = GenerateEd25519PrivateKeyPem();
  auto other = CheckpointSigner::Create("example.org/orgtrail", *pem);
  ASSERT_TRUE(other.ok());
  Run forged = VerifyLog(Offline(File("a", Note(13)), File("b", Note(40, other->get())), ProofFile("p", 13, 40)));
  EXPECT_EQ(forged.code, 1);
  EXPECT_NE(forged.err.find("INVALID: new checkpoint: signed note"), std::string::npos) << forged.err;
  std::string proof_text;
  {
    std::vector<Digest> prefix(leaves_.begin(), leaves_.begin() + 40);
    auto proof = *MerkleConsistencyProof(prefix, 13);
    proof[1][5] ^= 1;
    for (const auto& d : proof) proof_text += Base64Encode(DigestToString(d)) + "\n";
  }
  Run corrupt = VerifyLog(Offline(File("a2", Note(13)), File("b2", Note(40)), File("p2", proof_text)));
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_NE(corrupt.err.find("INVALID"), std::string::npos);
  for (const std::string& bad_proof : {std::string("not base64 !!\n"), std::string("AAAA\n"),
                                       std::string(200 * 45, 'A')}) {
    Run r = VerifyLog(Offline(File("a3", Note(13)), File("b3", Note(40)), File("p3", bad_proof)));
    EXPECT_EQ(r.code, 1) << bad_proof.substr(0, 20);
  }
  for (const std::string& bad_note : {std::string(""), std::string("garbage\n"), std::string(100000, 'x'),
                                      Note(13).substr(0, 30)}) {
    Run r = VerifyLog(Offline(File("a4", bad_note), File("b4", Note(40)), ProofFile("p4", 13, 40)));
    EXPECT_NE(r.code, 0);
  }
}

TEST_F(VerifyLogCliTest, BadFlagsAreUsageErrors) {
  EXPECT_EQ(VerifyLog({}).code, 2);
  EXPECT_EQ(VerifyLog({"--verifier-key", "nonsense", "--old-checkpoint", "x"}).code, 2);
  EXPECT_EQ(VerifyLog(Offline(dir_.Join("missing"), File("b", Note(2)), File("p", ""))).code, 2);
  EXPECT_EQ(VerifyLog({"--verifier-key", signer_->verifier_key()}).code, 2);
  EXPECT_EQ(VerifyLog({"--bogus"}).code, 2);
}

}  // namespace
}  // namespace orgtrail
