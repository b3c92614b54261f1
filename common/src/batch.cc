// Canonical batch header (PROTOCOL.md "Batch signature"), sealing and
// verification.
//
// Rules this file enforces beyond the layout:
// - agent_id is non-empty printable ASCII without spaces (0x21..0x7e), so the
//   header is unambiguous (a SPIFFE ID always is).
// - Integers are decimal without sign, leading zeros or '+' (time may carry a
//   leading '-' when negative); hex is exactly 64 lowercase digits.
// - prev_batch_hash and merkle_root on the wire are exactly 32 bytes.
// - Batches are signed with ECDSA_P256_SHA256 or ED25519 only.
#include "orgtrail/common/batch.h"

#include <cstring>
#include <limits>

#include "orgtrail/common/merkle.h"

namespace orgtrail {
namespace {

constexpr char kMagicLine[] = "orgtrail-batch-v1";

bool IsValidAgentId(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Status CheckAgentId(std::string_view id) {
  if (!IsValidAgentId(id)) {
    return absl::InvalidArgumentError(
        "agent_id: must be non-empty printable ASCII without spaces or control characters");
  }
  return absl::OkStatus();
}

Status CheckBatchAlgorithm(std::string_view algorithm) {
  if (algorithm != "ECDSA_P256_SHA256" && algorithm != "ED25519") {
    return absl::InvalidArgumentError("signature_algorithm: \"" + std::string(algorithm) +
                                      "\" is not allowed for batches (ECDSA_P256_SHA256 or "
                                      "ED25519)");
  }
  return absl::OkStatus();
}

StatusOr<Digest> Hash32(const std::string& bytes, const char* field) {
  if (bytes.size() != 32) {
    return absl::InvalidArgumentError(std::string(field) + ": expected 32 bytes, got " +
                                      std::to_string(bytes.size()));
  }
  Digest d{};
  std::memcpy(d.data(), bytes.data(), 32);
  return d;
}

// Cursor over the header bytes; each Take* consumes one "key=value\n" line.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view bytes) : rest_(bytes) {}

  StatusOr<std::string_view> Line(std::string_view what) {
    const size_t nl = rest_.find('\n');
    if (nl == std::string_view::npos) {
      return absl::InvalidArgumentError("batch header: missing newline-terminated line for " +
                                        std::string(what));
    }
    std::string_view line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    return line;
  }

  StatusOr<std::string_view> Value(std::string_view key) {
    auto line = Line(key);
    if (!line.ok()) return line.status();
    const std::string prefix = std::string(key) + "=";
    if (line->substr(0, prefix.size()) != prefix) {
      return absl::InvalidArgumentError("batch header: expected line \"" + prefix + "...\"");
    }
    return line->substr(prefix.size());
  }

  bool AtEnd() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

StatusOr<uint64_t> ParseUnsigned(std::string_view text, std::string_view key) {
  const auto bad = [&](const char* why) {
    return absl::InvalidArgumentError("batch header: " + std::string(key) + ": " + why);
  };
  if (text.empty()) return bad("empty");
  if (text.size() > 1 && text[0] == '0') return bad("leading zero");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad("not a decimal integer");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return bad("out of range");
    value = value * 10 + digit;
  }
  return value;
}

StatusOr<int64_t> ParseSigned(std::string_view text, std::string_view key) {
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  if (negative && text == "0") {
    return absl::InvalidArgumentError("batch header: " + std::string(key) + ": \"-0\"");
  }
  auto magnitude = ParseUnsigned(text, key);
  if (!magnitude.ok()) return magnitude.status();
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (*magnitude > limit) {
    return absl::InvalidArgumentError("batch header: " + std::string(key) + ": out of range");
  }
  if (negative) return static_cast<int64_t>(0 - *magnitude);
  return static_cast<int64_t>(*magnitude);
}

StatusOr<Digest> ParseLowerHexDigest(std::string_view text, std::string_view key) {
  const auto bad = [&](const char* why) {
    return absl::InvalidArgumentError("batch header: " + std::string(key) + ": " + why);
  };
  if (text.size() != 64) return bad("expected 64 lowercase hex digits");
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("not lowercase hex");
  }
  auto raw = HexDecode(text);
  if (!raw.ok()) return raw.status();
  return DigestFromString(*raw);
}

}  // namespace

std::string CanonicalBatchHeader(const BatchHeader& h) {
  std::string out;
  out.reserve(256 + h.agent_id.size());
  out.append(kMagicLine).append("\n");
  out.append("agent=").append(h.agent_id).append("\n");
  out.append("epoch=").append(std::to_string(h.epoch)).append("\n");
  out.append("seq=").append(std::to_string(h.sequence)).append("\n");
  out.append("count=").append(std::to_string(h.event_count)).append("\n");
  out.append("prev=").append(HexEncode(h.prev_batch_hash)).append("\n");
  out.append("root=").append(HexEncode(h.merkle_root)).append("\n");
  out.append("time=").append(std::to_string(h.created_time_us)).append("\n");
  return out;
}

StatusOr<BatchHeader> ParseCanonicalBatchHeader(std::string_view bytes) {
  HeaderReader reader(bytes);
  auto magic = reader.Line("magic");
  if (!magic.ok()) return magic.status();
  if (*magic != kMagicLine) {
    return absl::InvalidArgumentError("batch header: first line must be \"orgtrail-batch-v1\"");
  }
  BatchHeader h;
  auto agent = reader.Value("agent");
  if (!agent.ok()) return agent.status();
  if (!IsValidAgentId(*agent)) {
    return absl::InvalidArgumentError("batch header: agent: not printable ASCII");
  }
  h.agent_id = std::string(*agent);

  auto epoch = reader.Value("epoch");
  if (!epoch.ok()) return epoch.status();
  auto epoch_value = ParseUnsigned(*epoch, "epoch");
  if (!epoch_value.ok()) return epoch_value.status();
  h.epoch = *epoch_value;

  auto seq = reader.Value("seq");
  if (!seq.ok()) return seq.status();
  auto seq_value = ParseUnsigned(*seq, "seq");
  if (!seq_value.ok()) return seq_value.status();
  h.sequence = *seq_value;

  auto count = reader.Value("count");
  if (!count.ok()) return count.status();
  auto count_value = ParseUnsigned(*count, "count");
  if (!count_value.ok()) return count_value.status();
  h.event_count = *count_value;

  auto prev = reader.Value("prev");
  if (!prev.ok()) return prev.status();
  auto prev_value = ParseLowerHexDigest(*prev, "prev");
  if (!prev_value.ok()) return prev_value.status();
  h.prev_batch_hash = *prev_value;

  auto root = reader.Value("root");
  if (!root.ok()) return root.status();
  auto root_value = ParseLowerHexDigest(*root, "root");
  if (!root_value.ok()) return root_value.status();
  h.merkle_root = *root_value;

  auto time = reader.Value("time");
  if (!time.ok()) return time.status();
  auto time_value = ParseSigned(*time, "time");
  if (!time_value.ok()) return time_value.status();
  h.created_time_us = *time_value;

  if (!reader.AtEnd()) {
    return absl::InvalidArgumentError("batch header: trailing bytes after the time line");
  }
  return h;
}

Digest BatchHash(const BatchHeader& header) { return Sha256(CanonicalBatchHeader(header)); }

std::vector<Digest> BatchLeafHashes(const v1::Batch& batch) {
  std::vector<Digest> leaves;
  leaves.reserve(static_cast<size_t>(batch.events_size()));
  for (const auto& event : batch.events()) leaves.push_back(MerkleLeafHash(event.raw_json()));
  return leaves;
}

StatusOr<BatchHeader> HeaderOfBatch(const v1::Batch& batch) {
  ORGTRAIL_RETURN_IF_ERROR(CheckAgentId(batch.agent_id()));
  auto prev = Hash32(batch.prev_batch_hash(), "prev_batch_hash");
  if (!prev.ok()) return prev.status();
  auto root = Hash32(batch.merkle_root(), "merkle_root");
  if (!root.ok()) return root.status();
  BatchHeader h;
  h.agent_id = batch.agent_id();
  h.epoch = batch.epoch();
  h.sequence = batch.sequence();
  h.event_count = static_cast<uint64_t>(batch.events_size());
  h.prev_batch_hash = *prev;
  h.merkle_root = *root;
  h.created_time_us = batch.created_time_us();
  return h;
}

Status SealBatch(const Signer& signer, v1::Batch* batch) {
  ORGTRAIL_RETURN_IF_ERROR(CheckAgentId(batch->agent_id()));
  ORGTRAIL_RETURN_IF_ERROR(CheckBatchAlgorithm(signer.algorithm()));
  auto prev = Hash32(batch->prev_batch_hash(), "prev_batch_hash");
  if (!prev.ok()) return prev.status();
  const Digest root = MerkleRoot(BatchLeafHashes(*batch));
  batch->set_merkle_root(DigestToString(root));
  auto header = HeaderOfBatch(*batch);
  if (!header.ok()) return header.status();
  auto signature = signer.Sign(CanonicalBatchHeader(*header));
  if (!signature.ok()) return signature.status();
  batch->set_signature(*std::move(signature));
  batch->set_signature_algorithm(signer.algorithm());
  return absl::OkStatus();
}

Status VerifyBatch(const v1::Batch& batch, const Verifier& verifier,
                   std::vector<Digest>* leaf_hashes) {
  auto header = HeaderOfBatch(batch);
  if (!header.ok()) return header.status();
  ORGTRAIL_RETURN_IF_ERROR(CheckBatchAlgorithm(batch.signature_algorithm()));
  if (batch.signature().empty()) return absl::InvalidArgumentError("signature: empty");

  std::vector<Digest> leaves = BatchLeafHashes(batch);
  const Digest root = MerkleRoot(leaves);
  if (root != header->merkle_root) {
    return absl::DataLossError("merkle_root mismatch: events hash to " + HexEncode(root) +
                               ", batch carries " + HexEncode(header->merkle_root));
  }
  ORGTRAIL_RETURN_IF_ERROR(verifier.Verify(CanonicalBatchHeader(*header), batch.signature(),
                                           batch.signature_algorithm()));
  if (leaf_hashes != nullptr) *leaf_hashes = std::move(leaves);
  return absl::OkStatus();
}

}  // namespace orgtrail
