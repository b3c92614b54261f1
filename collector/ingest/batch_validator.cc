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

// Faults of the collector itself, not of the batch: out of memory, OpenSSL internals.
bool IsCollectorFault(const Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted || s.code() == absl::StatusCode::kInternal ||
         s.code() == absl::StatusCode::kUnavailable;
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
      extractor_(ExtractOptions{static_cast<size_t>(policy.max_event_bytes), 64}) {
  rules_.account_id = peer_.identity.account_id;
  rules_.region = peer_.identity.region;
  // Collector identities never open ingest streams (Identity::may_ingest); this is the self-audit path.
  rules_.sender_is_collector = peer_.identity.role == Role::kCollector;
  // Not owned: the policy's classifier outlives every validator.
  rules_.classifier = std::shared_ptr<const GlobalServiceClassifier>(std::shared_ptr<void>(), policy.classifier);
  rules_.allowed_regions = policy.allowed_regions;
  rules_.max_event_id_bytes = policy.max_event_id_bytes;
  rules_.retention_us = policy.retention_us;
  rules_.max_event_bytes = static_cast<size_t>(policy.max_event_bytes);
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
  if (policy_.test_transient_faults && policy_.test_transient_faults->fetch_sub(1) > 0) {
    *refusal = Refuse(absl::StatusCode::kUnavailable, "collector_fault",
                      "TEST MODE: an injected collector fault (resend the batch)");
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
    if (IsCollectorFault(verified)) {
      *refusal = Refuse(absl::StatusCode::kUnavailable, "collector_fault",
                        "the collector could not verify the batch (resend it): " + std::string(verified.message()));
    } else if (verified.code() == absl::StatusCode::kDataLoss) {
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
  out->refused.clear();
  out->events.reserve(batch.events_size());
  for (int i = 0; i < batch.events_size(); ++i) {
    IngestEvent event;
    RefusedEvent refused;
    switch (CheckEvent(i, batch.events(i), &event, &refused, refusal)) {
      case EventVerdict::kAccepted: out->events.push_back(std::move(event)); break;
      case EventVerdict::kRefused: out->refused.push_back(std::move(refused)); break;
      case EventVerdict::kFault: return false;
    }
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

BatchValidator::EventVerdict BatchValidator::CheckEvent(int index, const v1::Event& wire, IngestEvent* out,
                                                       RefusedEvent* refused, IngestRefusal* refusal) {
  refused->leaf_index = static_cast<uint32_t>(index);
  ExtractReport report;
  Status s = extractor_.Extract(wire.raw_json(), &out->event, &report);
  if (!s.ok()) {
    if (IsCollectorFault(s)) {
      *refusal = Refuse(absl::StatusCode::kUnavailable, "collector_fault",
                        EventLabel(index, "") + ": the collector could not parse it (resend it): " +
                            std::string(s.message()),
                        index);
      return EventVerdict::kFault;
    }
    refused->rule = "malformed_event";
    refused->message = EventLabel(index, "") + ": " + std::string(s.message());
    refused->raw_json = wire.raw_json();
    return EventVerdict::kRefused;
  }
  const v1::Event& e = out->event;
  if (std::optional<EventRejection> rejection = CheckEventAcceptance(e, rules_)) {
    refused->event_id = e.event_id().substr(0, policy_.max_event_id_bytes);
    refused->rule = std::move(rejection->rule);
    refused->message = EventLabel(index, "") + ": " + rejection->message;
    refused->identity_violation = rejection->identity_violation;
    refused->raw_json = wire.raw_json();
    return EventVerdict::kRefused;
  }
  out->partition_region = policy_.classifier->IsGlobal(e) ? policy_.home_region : e.aws_region();
  out->leaf_index = static_cast<uint32_t>(index);
  return EventVerdict::kAccepted;
}

}  // namespace orgtrail::collector
