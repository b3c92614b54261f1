// Signed checkpoints of the collector's Merkle log, in the C2SP formats
// (c2sp.org/tlog-checkpoint and c2sp.org/signed-note):
//
//   <origin>\n<tree size, decimal>\n<base64 RFC 6962 root hash>\n
//   \n
//   — <key name> <base64(4-byte key id || Ed25519 signature)>\n
//
// key id = SHA-256(<key name> || "\n" || 0x01 || 32-byte Ed25519 public key)[:4];
// the verifier key text is "<key name>+<8 hex key id>+<base64(0x01 || public key)>".
// The signature covers the body (the three lines with their newlines).
//
// Offline checks used by `orgtrailctl verify-log` (consistency of two
// checkpoints) and `verify-event --checkpoint` (inclusion of an event).
//
// Pure functions and immutable objects; thread-safe. Every malformed input is
// INVALID_ARGUMENT with a message naming what is wrong; a signature that does
// not verify is UNAUTHENTICATED; a proof that does not lead to the
// checkpoint's root is DATA_LOSS ("root mismatch") from common/merkle.h.
#ifndef ORGTRAIL_COMMON_CHECKPOINT_H_
#define ORGTRAIL_COMMON_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "orgtrail/common/hash.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"

namespace orgtrail {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root{};
};

inline constexpr size_t kMaxCheckpointNoteBytes = 64 * 1024;

// The three body lines, each ending in '\n'.
std::string FormatCheckpointBody(const Checkpoint& checkpoint);
// Parses a body (exactly three lines; extension lines are refused).
StatusOr<Checkpoint> ParseCheckpointBody(std::string_view body);

// A new Ed25519 private key, PKCS#8 PEM.
StatusOr<std::string> GenerateEd25519PrivateKeyPem();

class CheckpointSigner {
 public:
  // key_name: the signer's name in the note (usually the origin); must be
  // non-empty, without spaces, '+' or newlines. The key must be Ed25519.
  static StatusOr<std::unique_ptr<CheckpointSigner>> Create(std::string key_name,
                                                            std::string_view private_key_pem);
  // The complete signed note.
  StatusOr<std::string> Sign(const Checkpoint& checkpoint) const;
  // "<name>+<hex key id>+<base64(0x01 || public key)>".
  const std::string& verifier_key() const { return verifier_key_; }

 private:
  CheckpointSigner() = default;
  std::string key_name_;
  std::string key_id_;  // 4 bytes
  std::string verifier_key_;
  std::unique_ptr<Signer> signer_;
};

class CheckpointVerifier {
 public:
  static StatusOr<std::unique_ptr<CheckpointVerifier>> FromVerifierKey(std::string_view verifier_key);
  // Verifies a signed note from this key and returns its checkpoint. If
  // expected_origin is non-empty the origin must equal it.
  StatusOr<Checkpoint> Open(std::string_view note, std::string_view expected_origin = "") const;
  const std::string& key_name() const { return key_name_; }

 private:
  CheckpointVerifier() = default;
  std::string key_name_;
  std::string key_id_;
  std::unique_ptr<Verifier> verifier_;
};

// newer must extend older: same origin, size >= older's, and the RFC 6962
// consistency proof must connect the two roots. A smaller newer size (a
// rolled-back log) is FAILED_PRECONDITION ("log rolled back").
Status VerifyCheckpointConsistency(const Checkpoint& older, const Checkpoint& newer,
                                   const std::vector<Digest>& proof);

// leaf_hash at index is included in the checkpoint's tree.
Status VerifyCheckpointInclusion(const Checkpoint& checkpoint, uint64_t index,
                                 const Digest& leaf_hash, const std::vector<Digest>& proof);

}  // namespace orgtrail

#endif  // ORGTRAIL_COMMON_CHECKPOINT_H_
