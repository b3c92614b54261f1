// BatchValidator: everything the collector checks about one signed batch
// before it may be stored, given the identity the stream authenticated with:
//   batch rules: agent_id == the certificate's SPIFFE ID; sequence >= 1; size
//   limits; Merkle root and signature (common/batch.h VerifyBatch with the
//   peer certificate's public key). The first broken batch rule refuses the
//   whole batch with an IngestRefusal naming the rule and a message.
//   event rules: every event re-extracted from raw_json (wire fields are never
//   trusted), then common/event_acceptance.h (eventID, account, region). An
//   event that breaks one is refused alone: it goes to IngestBatch::refused
//   with its rule and bytes, and the batch's other events are stored.
//   A fault of the collector itself (the JSON parser out of memory, an OpenSSL
//   failure) refuses the batch with UNAVAILABLE ("collector_fault"): the agent
//   resends it.
//
// Not thread-safe (it owns an EventExtractor): one validator per stream.
#ifndef ORGTRAIL_COLLECTOR_INGEST_BATCH_VALIDATOR_H_
#define ORGTRAIL_COLLECTOR_INGEST_BATCH_VALIDATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "collector/store/store.h"
#include "orgtrail/common/classify.h"
#include "orgtrail/common/event_acceptance.h"
#include "orgtrail/common/event_extractor.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/v1/ingest.pb.h"

namespace orgtrail::collector {

struct IngestPolicy {
  std::string home_region = "us-east-1";
  const GlobalServiceClassifier* classifier = nullptr;  // required
  std::set<std::string> allowed_regions;                // accepted besides the AWS shape
  uint32_t max_events_per_batch = 10000;
  uint64_t max_batch_bytes = 16ull << 20;   // serialized Batch
  uint64_t max_event_bytes = 1ull << 20;    // one raw_json
  size_t max_event_id_bytes = kDefaultMaxEventIdBytes;
  int64_t retention_us = 0;  // events older than this (by eventTime) are refused alone; 0 = none
  // Tests only: while > 0, each batch is answered as a collector fault and the count decremented.
  std::shared_ptr<std::atomic<int64_t>> test_transient_faults;
};

struct IngestRefusal {
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  std::string rule;      // machine-readable, e.g. "recipient_account_mismatch"
  std::string message;   // names the event and the rule
  int event_index = -1;  // -1 when the batch as a whole is at fault
  std::string event_id;
  std::string shard, shard_endpoint;  // rule "wrong_shard": where the agent belongs
};

// The peer as authenticated by TLS.
struct PeerCredentials {
  Identity identity;
  std::string certificate_pem;
  Digest certificate_sha256{};
  std::shared_ptr<const Verifier> verifier;  // from the certificate's public key
};
// Builds PeerCredentials from a PEM leaf certificate and its parsed identity.
StatusOr<PeerCredentials> MakePeerCredentials(const Identity& identity, std::string certificate_pem);

class BatchValidator {
 public:
  BatchValidator(const IngestPolicy& policy, PeerCredentials peer);

  // True and *out filled when the batch may be stored; false and *refusal set otherwise.
  bool Validate(const v1::Batch& batch, int64_t receipt_time_us, IngestBatch* out, IngestRefusal* refusal);

  const PeerCredentials& peer() const { return peer_; }

 private:
  // kAccepted (*out filled), kRefused (*refused filled) or kFault (*refusal filled).
  enum class EventVerdict { kAccepted, kRefused, kFault };
  EventVerdict CheckEvent(int index, const v1::Event& wire, IngestEvent* out, RefusedEvent* refused,
                          IngestRefusal* refusal);

  const IngestPolicy& policy_;
  PeerCredentials peer_;
  AcceptanceRules rules_;
  EventExtractor extractor_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_INGEST_BATCH_VALIDATOR_H_
