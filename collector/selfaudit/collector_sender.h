// CollectorSender: the collector as the sender of its own records (its self-audit records and the
// Insights records it computes: IsCollectorRecord in common/event_acceptance.h). Each Send() is
// one batch with the collector as its agent (agent_id = the SPIFFE ID of its certificate,
// spiffe://<org>/collector/<name>), signed with its key (common/batch.h SealBatch), checked by the
// same BatchValidator as agents' batches with the collector's identity homed in the batch's
// account and region, and committed through the Committer: deduplicated, indexed, exported,
// covered by digests and the Merkle log, and traceable with `orgtrailctl verify-event`.
//
// One chain: sequences continue the identity's high-water mark in the store (a new epoch per
// Open); the certificate and key are re-read when their files change (rotation).
// Errors: Open refuses a certificate that is not a collector SVID of the trust domain
// (INVALID_ARGUMENT). Send returns the batch's failure (UNAVAILABLE when the store fails or the
// committer stopped; INTERNAL when the collector's own batch is refused), or one status per record
// (a record refused alone, e.g. not a collector record, is INTERNAL with the rule).
// Thread safety: Send from any thread; calls are serialized (one chain). The store and committer
// must outlive the sender.
#ifndef ORGTRAIL_COLLECTOR_SELFAUDIT_COLLECTOR_SENDER_H_
#define ORGTRAIL_COLLECTOR_SELFAUDIT_COLLECTOR_SENDER_H_

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "collector/ingest/batch_validator.h"
#include "collector/ingest/committer.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct CollectorSenderOptions {
  std::string trust_domain;
  std::string cert_path;  // the collector's certificate: a collector SVID of trust_domain
  std::string key_path;
  IngestPolicy policy;    // limits and classifier the records are validated against (classifier required)
};

class CollectorSender {
 public:
  static StatusOr<std::unique_ptr<CollectorSender>> Open(CollectorSenderOptions options, EventStore* store,
                                                         Committer* committer, Logger* logger);
  CollectorSender(const CollectorSender&) = delete;
  CollectorSender& operator=(const CollectorSender&) = delete;

  // Stores the raw records as one batch of `account_id` / `region` (at least one record).
  StatusOr<std::vector<Status>> Send(const std::string& account_id, const std::string& region,
                                     const std::vector<std::string>& raw_records);

  std::string agent_id() const;

 private:
  struct Credentials {
    std::filesystem::file_time_type cert_mtime, key_mtime;
    std::string cert_pem;
    std::unique_ptr<Signer> signer;
    std::string agent_id;
    // One validator per (account, region) the collector has sent for, built on first use.
    std::map<std::pair<std::string, std::string>, std::unique_ptr<BatchValidator>> validators;
  };

  CollectorSender(CollectorSenderOptions options, EventStore* store, Committer* committer, Logger* logger)
      : options_(std::move(options)), store_(store), committer_(committer), logger_(logger) {}
  Status LoadCredentials();  // mu_ held
  StatusOr<BatchValidator*> ValidatorFor(const std::string& account_id, const std::string& region);  // mu_ held
  void ContinueChainOf(const std::string& agent_id);  // mu_ held
  StatusOr<BatchOutcome> Commit(std::unique_ptr<IngestBatch> batch);

  CollectorSenderOptions options_;
  EventStore* store_;
  Committer* committer_;
  Logger* logger_;

  mutable std::mutex mu_;
  Credentials credentials_;
  std::string agent_id_;
  uint64_t epoch_ = 0;
  uint64_t next_sequence_ = 1;
  Digest prev_batch_hash_{};
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SELFAUDIT_COLLECTOR_SENDER_H_
