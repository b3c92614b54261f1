// C2SP checkpoints and signed notes (see checkpoint.h).
#include "orgtrail/common/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <charconv>

#include "orgtrail/common/merkle.h"

namespace orgtrail {
namespace {

constexpr char kEd25519[] = "ED25519";
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // "— " (em dash, space)
// SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410).
constexpr unsigned char kEd25519SpkiPrefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

bool ValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (c == '+' || c == ' ' || c == '\n' || c == '\t' || static_cast<unsigned char>(c) < 0x21) return false;
  }
  return true;
}

std::string KeyId(std::string_view name, std::string_view raw_public_key) {
  std::string material(name);
  material.push_back('\n');
  material.push_back('\x01');
  material.append(raw_public_key);
  Digest d = Sha256(material);
  return std::string(reinterpret_cast<const char*>(d.data()), 4);
}

StatusOr<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) {
    return absl::InvalidArgumentError("checkpoint: tree size is not a canonical decimal number");
  }
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return absl::InvalidArgumentError("checkpoint: tree size is not a canonical decimal number");
  }
  return v;
}

}  // namespace

std::string FormatCheckpointBody(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         Base64Encode(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) + "\n";
}

StatusOr<Checkpoint> ParseCheckpointBody(std::string_view body) {
  if (body.size() > kMaxCheckpointNoteBytes) return absl::InvalidArgumentError("checkpoint: too large");
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    if (nl == std::string_view::npos) return absl::InvalidArgumentError("checkpoint: last line lacks a newline");
    lines.push_back(body.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() != 3) {
    return absl::InvalidArgumentError("checkpoint: expected 3 lines (origin, size, root), got " +
                                      std::to_string(lines.size()));
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return absl::InvalidArgumentError("checkpoint: empty origin");
  for (char ch : c.origin) {
    if (static_cast<unsigned char>(ch) < 0x20) return absl::InvalidArgumentError("checkpoint: control byte in origin");
  }
  auto size = ParseDecimal(lines[1]);
  if (!size.ok()) return size.status();
  c.size = *size;
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != 32) {
    return absl::InvalidArgumentError("checkpoint: root is not base64 of 32 bytes");
  }
  auto d = DigestFromString(*root);
  if (!d.ok()) return d.status();
  c.root = *d;
  if (FormatCheckpointBody(c) != body) return absl::InvalidArgumentError("checkpoint: non-canonical encoding");
  return c;
}

StatusOr<std::string> GenerateEd25519PrivateKeyPem() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) return absl::InternalError("Ed25519 key generation failed");
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio && PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  if (pem.empty()) return absl::InternalError("PEM encoding of the Ed25519 key failed");
  return pem;
}

StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::Create(std::string key_name,
                                                                     std::string_view private_key_pem) {
  if (!ValidKeyName(key_name)) return absl::InvalidArgumentError("checkpoint signer: invalid key name");
  auto signer = Signer::FromPrivateKeyPem(private_key_pem);
  if (!signer.ok()) return signer.status();
  if ((*signer)->algorithm() != kEd25519) {
    return absl::InvalidArgumentError("checkpoint signer: an Ed25519 key is required");
  }
  const std::string spki = (*signer)->PublicKeyDer();
  if (spki.size() != sizeof(kEd25519SpkiPrefix) + 32) {
    return absl::InternalError("checkpoint signer: unexpected Ed25519 public key encoding");
  }
  const std::string raw = spki.substr(sizeof(kEd25519SpkiPrefix));
  std::unique_ptr<CheckpointSigner> out(new CheckpointSigner);
  out->key_name_ = std::move(key_name);
  out->key_id_ = KeyId(out->key_name_, raw);
  out->verifier_key_ = out->key_name_ + "+" + HexEncode(out->key_id_) + "+" + Base64Encode("\x01" + raw);
  out->signer_ = std::move(*signer);
  return out;
}

StatusOr<std::string> CheckpointSigner::Sign(const Checkpoint& checkpoint) const {
  if (checkpoint.origin.empty() || checkpoint.origin.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("checkpoint: invalid origin");
  }
  const std::string body = FormatCheckpointBody(checkpoint);
  auto sig = signer_->Sign(body);
  if (!sig.ok()) return sig.status();
  return body + "\n" + std::string(kSignaturePrefix) + key_name_ + " " + Base64Encode(key_id_ + *sig) + "\n";
}

StatusOr<std::unique_ptr<CheckpointVerifier>> CheckpointVerifier::FromVerifierKey(std::string_view vkey) {
  if (vkey.size() > 1024) return absl::InvalidArgumentError("verifier key: too long");
  size_t p1 = vkey.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : vkey.find('+', p1 + 1);
  if (p1 == std::string_view::npos || p2 == std::string_view::npos) {
    return absl::InvalidArgumentError("verifier key: expected <name>+<hex id>+<base64 key>");
  }
  std::string_view name = vkey.substr(0, p1), id_hex = vkey.substr(p1 + 1, p2 - p1 - 1),
                   key_b64 = vkey.substr(p2 + 1);
  while (!key_b64.empty() && (key_b64.back() == '\n' || key_b64.back() == '\r')) key_b64.remove_suffix(1);
  if (!ValidKeyName(name)) return absl::InvalidArgumentError("verifier key: invalid key name");
  auto id = HexDecode(id_hex);
  auto key = Base64Decode(key_b64);
  if (!id.ok() || id->size() != 4) return absl::InvalidArgumentError("verifier key: key id is not 8 hex digits");
  if (!key.ok() || key->size() != 33 || (*key)[0] != '\x01') {
    return absl::InvalidArgumentError("verifier key: not an Ed25519 key (type 0x01, 32 bytes)");
  }
  const std::string raw = key->substr(1);
  if (KeyId(name, raw) != *id) return absl::InvalidArgumentError("verifier key: key id does not match the key");
  std::string spki(reinterpret_cast<const char*>(kEd25519SpkiPrefix), sizeof(kEd25519SpkiPrefix));
  spki += raw;
  auto verifier = Verifier::FromPublicKeyDer(spki);
  if (!verifier.ok()) return verifier.status();
  std::unique_ptr<CheckpointVerifier> out(new CheckpointVerifier);
  out->key_name_ = std::string(name);
  out->key_id_ = *id;
  out->verifier_ = std::move(*verifier);
  return out;
}

StatusOr<Checkpoint> CheckpointVerifier::Open(std::string_view note, std::string_view expected_origin) const {
  if (note.size() > kMaxCheckpointNoteBytes) return absl::InvalidArgumentError("signed note: too large");
  size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return absl::InvalidArgumentError("signed note: no blank line before signatures");
  std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return absl::InvalidArgumentError("signed note: no signature lines");
  auto checkpoint = ParseCheckpointBody(body);
  if (!checkpoint.ok()) return checkpoint.status();
  bool found = false;
  size_t start = 0;
  int lines = 0;
  while (start < sigs.size()) {
    if (++lines > 100) return absl::InvalidArgumentError("signed note: too many signature lines");
    size_t nl = sigs.find('\n', start);
    std::string_view line = sigs.substr(start, nl - start);
    start = nl + 1;
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError("signed note: malformed signature line");
    }
    line.remove_prefix(kSignaturePrefix.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return absl::InvalidArgumentError("signed note: malformed signature line");
    if (line.substr(0, space) != key_name_) continue;  // another signer
    auto blob = Base64Decode(line.substr(space + 1));
    if (!blob.ok() || blob->size() < 5) return absl::InvalidArgumentError("signed note: malformed signature");
    if (blob->substr(0, 4) != key_id_) continue;  // same name, other key
    Status st = verifier_->Verify(body, blob->substr(4), kEd25519);
    if (!st.ok()) return absl::UnauthenticatedError("signed note: signature verification failed");
    found = true;
  }
  if (!found) return absl::UnauthenticatedError("signed note: no signature by key " + key_name_);
  if (!expected_origin.empty() && checkpoint->origin != expected_origin) {
    return absl::InvalidArgumentError("checkpoint: origin '" + checkpoint->origin + "' is not '" +
                                      std::string(expected_origin) + "'");
  }
  return checkpoint;
}

Status VerifyCheckpointConsistency(const Checkpoint& older, const Checkpoint& newer,
                                   const std::vector<Digest>& proof) {
  if (older.origin != newer.origin) return absl::InvalidArgumentError("checkpoints of different logs (origin differs)");
  if (newer.size < older.size) {
    return absl::FailedPreconditionError("log rolled back: newer checkpoint has size " + std::to_string(newer.size) +
                                         " < " + std::to_string(older.size));
  }
  if (newer.size == older.size) {
    if (older.root != newer.root || !proof.empty()) {
      return absl::DataLossError("root mismatch: same size, different roots (log forked)");
    }
    return absl::OkStatus();
  }
  if (older.size == 0) {
    if (!proof.empty()) return absl::InvalidArgumentError("consistency proof from an empty tree must be empty");
    return absl::OkStatus();
  }
  return VerifyMerkleConsistency(older.size, newer.size, proof, older.root, newer.root);
}

Status VerifyCheckpointInclusion(const Checkpoint& checkpoint, uint64_t index, const Digest& leaf_hash,
                                 const std::vector<Digest>& proof) {
  if (index >= checkpoint.size) {
    return absl::InvalidArgumentError("leaf index " + std::to_string(index) + " is outside the checkpoint (size " +
                                      std::to_string(checkpoint.size) + ")");
  }
  return VerifyMerkleInclusion(index, checkpoint.size, leaf_hash, proof, checkpoint.root);
}

}  // namespace orgtrail
