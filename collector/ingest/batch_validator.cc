#include "collector/ingest/batch_validator.h"

#include "orgtrail/common/batch.h"
#include "orgtrail/common/hash.h"

namespace orgtrail::collector {
namespace {

IngestRefusal Refuse(absl::StatusCode code, std::string rule, std::string message, int index = -1,
                     std::string event_id = "") {
  IngestRefusal r;
  r.code = code;
  r.rule = std::move(rule);
  r.message = std::move(message);
  r.event_index = index;
  r.event_id = std::move(event_id);
  return r;
}

std::string EventLabel(int index, const std::string& event_id) {
  std::string label = "event " + std::to_string(index);
  if (!event_id.empty()) label += " (eventID " + event_id.substr(0, 128) + ")";
  return label;
}

}  // namespace

StatusOr<PeerCredentials> MakePeerCredentials(const Identity& identity, std::string certificate_pem) {
  PeerCredentials peer;
  peer.identity = identity;
  auto verifier = Verifier::FromCertificatePem(certificate_pem);
  if (!verifier.ok()) return verifier.status();
  peer.verifier = std::shared_ptr<const Verifier>(std::move(*verifier));
  auto fingerprint = CertificateFingerprint(certificate_pem);
  if (!fingerprint.ok()) return fingerprint.status();
  auto raw = HexDecode(*fingerprint);
  if (!raw.ok()) return raw.status();
  auto digest = DigestFromString(*raw);
  if (!digest.ok()) return digest.status();
  peer.certificate_sha256 = *digest;
  peer.certificate_pem = std::move(certificate_pem);
  return peer;
}

BatchValidator::BatchValidator(const IngestPolicy& policy, PeerCredentials peer)
    : policy_(policy), peer_(std::move(peer)),
      extractor_(ExtractOptions{static_cast<size_t>(policy.max_event_bytes), 64}) {}

bool BatchValidator::RegionAcceptable(const std::string& region) const {
  return IsValidRegionName(region) || policy_.allowed_regions.count(region) > 0;
}

bool BatchValidator::Validate(const v1::Batch& batch, int64_t receipt_time_us, IngestBatch* out,
                              IngestRefusal* refusal) {
  const Identity& id = peer_.identity;
  if (batch.agent_id() != id.spiffe_id) {
    *refusal = Refuse(absl::StatusCode::kPermissionDenied, "agent_id_mismatch",
                      "batch agent_id '" + batch.agent_id().substr(0, 256) +
                          "' is not the certificate's identity " + id.spiffe_id);
    return false;
  }
  if (batch.sequence() == 0) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "invalid_sequence", "batch sequence must be >= 1");
    return false;
  }
  if (static_cast<uint64_t>(batch.events_size()) > policy_.max_events_per_batch) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "too_many_events",
                      "batch has " + std::to_string(batch.events_size()) + " events, limit " +
                          std::to_string(policy_.max_events_per_batch));
    return false;
  }
  if (batch.ByteSizeLong() > policy_.max_batch_bytes) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "batch_too_large",
                      "batch is " + std::to_string(batch.ByteSizeLong()) + " bytes, limit " +
                          std::to_string(policy_.max_batch_bytes));
    return false;
  }
  auto header = HeaderOfBatch(batch);
  if (!header.ok()) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "malformed_batch",
                      std::string(header.status().message()));
    return false;
  }
  std::vector<Digest> leaf_hashes;
  Status verified = VerifyBatch(batch, *peer_.verifier, &leaf_hashes);
  if (!verified.ok()) {
    if (verified.code() == absl::StatusCode::kDataLoss) {
      *refusal = Refuse(absl::StatusCode::kInvalidArgument, "merkle_root_mismatch",
                        "merkle_root does not match the events' leaf hashes: " + std::string(verified.message()));
    } else if (verified.code() == absl::StatusCode::kUnauthenticated) {
      *refusal = Refuse(absl::StatusCode::kUnauthenticated, "bad_signature",
                        "batch signature does not verify with the agent certificate's key: " +
                            std::string(verified.message()));
    } else {
      *refusal = Refuse(absl::StatusCode::kInvalidArgument, "malformed_batch", std::string(verified.message()));
    }
    return false;
  }

  out->events.clear();
  out->events.resize(batch.events_size());
  for (int i = 0; i < batch.events_size(); ++i) {
    if (!CheckEvent(i, batch.events(i), &out->events[i], refusal)) return false;
  }
  out->agent_id = id.spiffe_id;
  out->account_id = id.account_id;
  out->region = id.region;
  out->epoch = batch.epoch();
  out->sequence = batch.sequence();
  out->signed_header = CanonicalBatchHeader(*header);
  out->signature = batch.signature();
  out->signature_algorithm = batch.signature_algorithm();
  out->certificate_pem = peer_.certificate_pem;
  out->certificate_sha256 = peer_.certificate_sha256;
  out->merkle_root = header->merkle_root;
  out->prev_batch_hash = header->prev_batch_hash;
  out->batch_hash = BatchHash(*header);
  out->leaf_hashes = std::move(leaf_hashes);
  out->receipt_time_us = receipt_time_us;
  return true;
}

bool BatchValidator::CheckEvent(int index, const v1::Event& wire, IngestEvent* out, IngestRefusal* refusal) {
  const Identity& id = peer_.identity;
  ExtractReport report;
  Status s = extractor_.Extract(wire.raw_json(), &out->event, &report);
  if (!s.ok()) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "malformed_event",
                      EventLabel(index, "") + ": " + std::string(s.message()), index);
    return false;
  }
  const v1::Event& e = out->event;
  if (report.event_id_missing || e.event_id().empty()) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "event_id_missing",
                      EventLabel(index, "") + " has no eventID", index);
    return false;
  }
  if (e.event_id().size() > policy_.max_event_id_bytes) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "event_id_invalid",
                      EventLabel(index, "") + ": eventID longer than " +
                          std::to_string(policy_.max_event_id_bytes) + " bytes",
                      index);
    return false;
  }
  if (e.recipient_account_id() != id.account_id) {
    *refusal = Refuse(absl::StatusCode::kPermissionDenied, "recipient_account_mismatch",
                      EventLabel(index, e.event_id()) + ": recipientAccountId '" +
                          e.recipient_account_id().substr(0, 64) + "' is not the agent's account " + id.account_id,
                      index, e.event_id());
    return false;
  }
  if (!RegionAcceptable(e.aws_region())) {
    *refusal = Refuse(absl::StatusCode::kInvalidArgument, "invalid_region",
                      EventLabel(index, e.event_id()) + ": awsRegion '" + e.aws_region().substr(0, 64) +
                          "' is not a region name (allow it with --allowed-regions)",
                      index, e.event_id());
    return false;
  }
  const bool global = policy_.classifier->IsGlobal(e);
  if (e.aws_region() != id.region && !global) {
    *refusal = Refuse(absl::StatusCode::kPermissionDenied, "region_mismatch",
                      EventLabel(index, e.event_id()) + ": awsRegion '" + e.aws_region() +
                          "' is not the agent's region " + id.region + " and " + e.event_source().substr(0, 128) +
                          " is not a global service",
                      index, e.event_id());
    return false;
  }
  out->partition_region = global ? policy_.home_region : e.aws_region();
  out->leaf_index = static_cast<uint32_t>(index);
  return true;
}

}  // namespace orgtrail::collector
