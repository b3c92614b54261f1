// SelfAuditor: stores the collector's self-audit records (audited_call.h) the way every other
// event is stored, through the collector's own sender (collector_sender.h): each group of calls
// becomes one batch with the collector as its agent, signed with the collector's key, checked by
// the same BatchValidator as agents' batches (the collector's identity homed in the management
// account and the home region; agents may never send eventSource "orgtrail"), and committed
// through the Committer. So the records are deduplicated, indexed, exported, covered by digests
// and the Merkle log, and `orgtrailctl verify-event` traces each one to the collector's
// certificate, like any agent's event.
//
// Record() blocks until the call's record is durable and returns OK, or returns the reason it
// could not be stored (fail-stop, timeout, stop): the audit interceptor then fails the call
// itself, so nothing is answered that is not recorded. Calls arriving together share one batch
// and one synced write.
//
// The sender keeps the collector identity's one chain of sequences (shared with whatever else
// the collector stores as itself) and re-reads the certificate and key when they change.
//
// Thread safety: Record from any thread; Start/Stop from one. Stop() stores what is queued, then
// refuses new calls with UNAVAILABLE. The store and committer must outlive the auditor and keep
// running until Stop() returns.
#ifndef ORGTRAIL_COLLECTOR_SELFAUDIT_SELF_AUDITOR_H_
#define ORGTRAIL_COLLECTOR_SELFAUDIT_SELF_AUDITOR_H_

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/ingest/batch_validator.h"
#include "collector/ingest/committer.h"
#include "collector/selfaudit/audited_call.h"
#include "collector/selfaudit/collector_sender.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/signer.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

struct SelfAuditOptions {
  std::string trust_domain;
  std::string cert_path;  // the collector's certificate: a collector SVID of trust_domain
  std::string key_path;
  AuditRecordContext record;
  IngestPolicy policy;    // limits and classifier the records are validated against (classifier required)
  size_t max_calls_per_batch = 512;
  int64_t record_timeout_us = 10'000'000;  // Record() gives up (UNAVAILABLE) after this
};

class SelfAuditor {
 public:
  // Reads the certificate and key (INVALID_ARGUMENT when the certificate is not a collector SVID
  // of the trust domain) and the identity's high-water mark.
  static StatusOr<std::unique_ptr<SelfAuditor>> Open(SelfAuditOptions options, EventStore* store,
                                                     Committer* committer, Logger* logger,
                                                     MetricsRegistry* metrics);
  ~SelfAuditor();
  SelfAuditor(const SelfAuditor&) = delete;
  SelfAuditor& operator=(const SelfAuditor&) = delete;

  void Start();
  void Stop();

  Status Record(AuditedCall call);

  std::string agent_id() const { return sender_->agent_id(); }
  // The collector identity's one sender (one chain of sequences), for its other records (Insights).
  CollectorSender* sender() const { return sender_.get(); }

 private:
  struct Waiter {
    AuditedCall call;
    std::promise<Status> done;
  };

  SelfAuditor(SelfAuditOptions options, std::unique_ptr<CollectorSender> sender, Logger* logger,
              MetricsRegistry* metrics);
  void Run();
  // Stores the group's records as one batch; one status per call.
  std::vector<Status> StoreGroup(const std::vector<std::shared_ptr<Waiter>>& group);

  SelfAuditOptions options_;
  std::unique_ptr<CollectorSender> sender_;
  Logger* logger_;
  Counter* stored_;
  Counter* failed_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Waiter>> queue_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_SELFAUDIT_SELF_AUDITOR_H_
