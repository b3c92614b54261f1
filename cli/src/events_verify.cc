#include "events_verify.h"

#include <optional>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/hash.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/merkle.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::cli {
namespace {

std::string Message(const Status& status) {
  return std::string(status.message().data(), status.message().size());
}

class Checks {
 public:
  void Add(std::string name, bool ok, std::string detail) {
    report_.checks.push_back({std::move(name), ok, std::move(detail)});
  }
  VerifyReport Take() { return std::move(report_); }

 private:
  VerifyReport report_;
};

std::optional<BatchHeader> CheckHeader(const v1::Provenance& provenance, Checks* checks) {
  auto header = ParseCanonicalBatchHeader(provenance.signed_header());
  if (!header.ok()) {
    checks->Add("signed header", false, "not a canonical batch header: " + Message(header.status()));
    return std::nullopt;
  }
  checks->Add("signed header", true,
              "batch " + std::to_string(header->sequence) + " of " + header->agent_id + ", " +
                  std::to_string(header->event_count) + " events, created " +
                  FormatRfc3339Seconds(header->created_time_us));
  return *header;
}

// The agent certificate must chain to the CA and be inside its validity
// window either now or when the batch was created (a certificate that expired
// after signing still vouches for what it signed). Returns the time at which
// it was valid (0 = now), for the identity check.
int64_t CheckCertificate(const v1::Provenance& provenance, std::string_view ca_pem,
                         int64_t batch_time_us, Checks* checks) {
  const std::string& pem = provenance.agent_certificate_pem();
  int64_t valid_at = 0;
  if (pem.empty()) {
    checks->Add("certificate chain", false, "the provenance carries no agent certificate");
    return valid_at;
  }
  const Status now = VerifyCertificateChain(pem, ca_pem, 0);
  if (now.ok()) {
    checks->Add("certificate chain", true, "agent certificate chains to the CA and is valid now");
  } else if (batch_time_us > 0 && VerifyCertificateChain(pem, ca_pem, batch_time_us).ok()) {
    valid_at = batch_time_us;
    checks->Add("certificate chain", true,
                "agent certificate chains to the CA and was valid when the batch was created (" +
                    FormatRfc3339Seconds(batch_time_us) + "); now: " + Message(now));
  } else {
    checks->Add("certificate chain", false, "does not chain to the CA: " + Message(now));
  }
  auto fingerprint = CertificateFingerprint(pem);
  if (!fingerprint.ok()) {
    checks->Add("certificate fingerprint", false, Message(fingerprint.status()));
    return valid_at;
  } else if (!provenance.agent_certificate_sha256().empty() &&
             *fingerprint != provenance.agent_certificate_sha256()) {
    checks->Add("certificate fingerprint", false,
                "certificate SHA-256 " + *fingerprint + " differs from the recorded " +
                    provenance.agent_certificate_sha256());
  } else {
    checks->Add("certificate fingerprint", true, "sha256 " + *fingerprint);
  }
  return valid_at;
}

void CheckIdentity(const v1::Provenance& provenance, const std::optional<BatchHeader>& header,
                   const std::optional<v1::Event>& record, int64_t valid_at_us, Checks* checks) {
  auto identity = IdentityFromCertificatePem(provenance.agent_certificate_pem(), "", valid_at_us);
  if (!identity.ok()) {
    checks->Add("identity", false, "certificate is not a valid SVID: " + Message(identity.status()));
    return;
  }
  if (identity->role != Role::kAgent && identity->role != Role::kCollector) {
    checks->Add("identity", false,
                identity->spiffe_id + " is a " + std::string(RoleName(identity->role)) +
                    " identity, not an agent");
    return;
  }
  if (header.has_value() && header->agent_id != identity->spiffe_id) {
    checks->Add("identity", false,
                "header agent " + header->agent_id + " is not the certificate's " +
                    identity->spiffe_id);
    return;
  }
  if (!record.has_value()) {
    checks->Add("identity", false, "the record is unreadable, so its account/region are unknown");
    return;
  }
  // The collector signs its self-audit records (eventSource orgtrail) and its Insights records,
  // and only those; agents never sign the self-audit source.
  const bool self_audit = record->event_source() == kSelfAuditEventSource;
  if (identity->role == Role::kCollector || self_audit) {
    const bool ok = identity->role == Role::kCollector && IsCollectorRecord(*record);
    const std::string what = self_audit ? "its self-audit record (eventSource " + std::string(kSelfAuditEventSource) + ")"
                                        : "an Insights record it computed (eventType " + std::string(kInsightEventType) + ")";
    checks->Add("identity", ok,
                ok ? identity->spiffe_id + " is the collector, and this is " + what
                   : identity->spiffe_id + (self_audit ? " is not a collector, but the record's eventSource " +
                                                             std::string(kSelfAuditEventSource) +
                                                             " is reserved for the collector's self-audit"
                                                       : " is a collector, which signs only its self-audit and Insights "
                                                         "records, not " + record->event_source()));
    return;
  }
  if (record->recipient_account_id() != identity->account_id) {
    checks->Add("identity", false,
                "record recipientAccountId " + record->recipient_account_id() +
                    " is not the agent's account " + identity->account_id);
    return;
  }
  const GlobalServiceClassifier classifier;
  const bool global = classifier.IsGlobal(*record);
  if (!global && record->aws_region() != identity->region) {
    checks->Add("identity", false,
                "record awsRegion " + record->aws_region() + " is not the agent's region " +
                    identity->region + " (and " + record->event_source() +
                    " is not a global service)");
    return;
  }
  checks->Add("identity", true,
              identity->spiffe_id + " may send account " + identity->account_id + " " +
                  (global ? "global-service events" : "region " + identity->region));
}

void CheckSignature(const v1::Provenance& provenance, Checks* checks) {
  auto verifier = Verifier::FromCertificatePem(provenance.agent_certificate_pem());
  if (!verifier.ok()) {
    checks->Add("signature", false, "no usable public key: " + Message(verifier.status()));
    return;
  }
  const Status verified = (*verifier)->Verify(provenance.signed_header(), provenance.signature(),
                                              provenance.signature_algorithm());
  if (!verified.ok()) {
    checks->Add("signature", false, provenance.signature_algorithm() + ": " + Message(verified));
  } else {
    checks->Add("signature", true,
                provenance.signature_algorithm() + " signature over the header is valid");
  }
}

void CheckInclusion(const v1::GetEventResponse& event, const std::optional<BatchHeader>& header,
                    Checks* checks) {
  const v1::Provenance& provenance = event.provenance();
  if (!header.has_value()) {
    checks->Add("inclusion proof", false, "skipped: the signed header is unreadable");
    return;
  }
  if (provenance.leaf_count() != header->event_count) {
    checks->Add("inclusion proof", false,
                "leaf count " + std::to_string(provenance.leaf_count()) +
                    " differs from the signed count " + std::to_string(header->event_count));
    return;
  }
  std::vector<Digest> proof;
  for (const auto& node : provenance.inclusion_proof()) {
    auto digest = DigestFromString(node);
    if (!digest.ok()) {
      checks->Add("inclusion proof", false, "a proof node is not 32 bytes");
      return;
    }
    proof.push_back(*digest);
  }
  const Digest leaf = MerkleLeafHash(event.event().raw_json());
  const Status included = VerifyMerkleInclusion(provenance.leaf_index(), provenance.leaf_count(),
                                                leaf, proof, header->merkle_root);
  if (!included.ok()) {
    checks->Add("inclusion proof", false,
                "leaf " + HexEncode(leaf) + " at index " + std::to_string(provenance.leaf_index()) +
                    " does not reproduce the signed root " + HexEncode(header->merkle_root) + ": " +
                    Message(included));
    return;
  }
  checks->Add("inclusion proof", true,
              "leaf " + std::to_string(provenance.leaf_index()) + " of " +
                  std::to_string(provenance.leaf_count()) + " reproduces the signed root " +
                  HexEncode(header->merkle_root));
}

}  // namespace

bool VerifyReport::ok() const {
  if (checks.empty()) return false;
  for (const auto& check : checks) {
    if (!check.ok) return false;
  }
  return true;
}

VerifyReport VerifyEventProvenance(const v1::GetEventResponse& event, std::string_view ca_pem,
                                   std::string_view expected_event_id) {
  Checks checks;
  const v1::Provenance& provenance = event.provenance();

  std::optional<v1::Event> record;
  {
    EventExtractor extractor;
    v1::Event extracted;
    const Status status = extractor.Extract(event.event().raw_json(), &extracted);
    if (!status.ok()) {
      checks.Add("record", false, "the record is not a readable CloudTrail event: " + Message(status));
    } else {
      const std::string expected =
          expected_event_id.empty() ? event.event().event_id() : std::string(expected_event_id);
      if (!expected.empty() && extracted.event_id() != expected) {
        checks.Add("record", false,
                   "record eventID '" + extracted.event_id() + "' is not '" + expected + "'");
      } else {
        checks.Add("record", true,
                   "eventID " + extracted.event_id() + ", " + extracted.event_name() + " in " +
                       extracted.recipient_account_id() + "/" + extracted.aws_region());
      }
      record = std::move(extracted);
    }
  }

  const std::optional<BatchHeader> header = CheckHeader(provenance, &checks);
  const int64_t batch_time_us = header.has_value() ? header->created_time_us : 0;
  const int64_t valid_at = CheckCertificate(provenance, ca_pem, batch_time_us, &checks);
  CheckIdentity(provenance, header, record, valid_at, &checks);
  CheckSignature(provenance, &checks);
  CheckInclusion(event, header, &checks);
  return checks.Take();
}

}  // namespace orgtrail::cli
