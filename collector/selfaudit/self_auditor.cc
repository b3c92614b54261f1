#include "collector/selfaudit/self_auditor.h"

#include <chrono>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"
#include "orgtrail/common/uuid.h"

namespace orgtrail::collector {
namespace {

StatusOr<std::filesystem::file_time_type> ModifiedTime(const std::string& path) {
  std::error_code ec;
  auto time = std::filesystem::last_write_time(path, ec);
  if (ec) return absl::UnavailableError("cannot stat '" + path + "': " + ec.message());
  return time;
}

}  // namespace

SelfAuditor::SelfAuditor(SelfAuditOptions options, EventStore* store, Committer* committer, Logger* logger,
                         MetricsRegistry* metrics)
    : options_(std::move(options)), store_(store), committer_(committer), logger_(logger) {
  const std::string help = "Self-audit records of calls to the query, investigation, admin and integrity services";
  stored_ = metrics->GetCounter("orgtrail_collector_self_audit_records_total", help, {{"outcome", "stored"}});
  failed_ = metrics->GetCounter("orgtrail_collector_self_audit_records_total", help, {{"outcome", "failed"}});
}

SelfAuditor::~SelfAuditor() { Stop(); }

StatusOr<std::unique_ptr<SelfAuditor>> SelfAuditor::Open(SelfAuditOptions options, EventStore* store,
                                                         Committer* committer, Logger* logger,
                                                         MetricsRegistry* metrics) {
  if (options.policy.classifier == nullptr) return absl::InvalidArgumentError("self-audit: no classifier");
  std::unique_ptr<SelfAuditor> auditor(new SelfAuditor(std::move(options), store, committer, logger, metrics));
  if (Status s = auditor->LoadCredentials(); !s.ok()) return s;
  return auditor;
}

// (Re)reads the certificate and key when either file changed since the last read.
Status SelfAuditor::LoadCredentials() {
  auto cert_mtime = ModifiedTime(options_.cert_path);
  if (!cert_mtime.ok()) return cert_mtime.status();
  auto key_mtime = ModifiedTime(options_.key_path);
  if (!key_mtime.ok()) return key_mtime.status();
  if (credentials_.signer != nullptr && *cert_mtime == credentials_.cert_mtime &&
      *key_mtime == credentials_.key_mtime) {
    return Status();
  }
  auto pem = ReadFile(options_.cert_path);
  if (!pem.ok()) return pem.status();
  auto identity = IdentityFromCertificatePem(*pem, options_.trust_domain);
  if (!identity.ok()) {
    return absl::InvalidArgumentError("self-audit: the collector certificate " + options_.cert_path + ": " +
                                      std::string(identity.status().message()));
  }
  if (identity->role != Role::kCollector) {
    return absl::InvalidArgumentError("self-audit: the collector certificate " + options_.cert_path + " names " +
                                      identity->spiffe_id + ", not spiffe://" + options_.trust_domain +
                                      "/collector/<name>");
  }
  auto signer = Signer::FromPrivateKeyFile(options_.key_path);
  if (!signer.ok()) return signer.status();
  // The records belong to the management account and the home region.
  identity->account_id = options_.record.management_account_id;
  identity->region = options_.record.home_region;
  auto peer = MakePeerCredentials(*identity, *pem);
  if (!peer.ok()) return peer.status();
  Credentials next;
  next.cert_mtime = *cert_mtime;
  next.key_mtime = *key_mtime;
  next.signer = std::move(*signer);
  next.validator = std::make_unique<BatchValidator>(options_.policy, std::move(*peer));
  next.agent_id = identity->spiffe_id;
  credentials_ = std::move(next);
  if (credentials_.agent_id != agent_id_) ContinueChainOf(credentials_.agent_id);
  return Status();
}

void SelfAuditor::ContinueChainOf(const std::string& agent_id) {
  agent_id_ = agent_id;
  std::optional<AgentState> state = store_->GetAgentState(agent_id);
  epoch_ = state.has_value() ? state->epoch + 1 : 1;
  next_sequence_ = state.has_value() ? state->high_water_sequence + 1 : 1;
  prev_batch_hash_ = state.has_value() ? state->last_batch_hash : Digest{};
}

void SelfAuditor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void SelfAuditor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<std::shared_ptr<Waiter>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& waiter : left) waiter->done.set_value(absl::UnavailableError("the collector is stopping"));
}

Status SelfAuditor::Record(AuditedCall call) {
  auto waiter = std::make_shared<Waiter>();
  waiter->call = std::move(call);
  std::future<Status> done = waiter->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !started_) {
      failed_->Increment();
      return absl::UnavailableError("the collector's self-audit is not running");
    }
    queue_.push_back(waiter);
  }
  cv_.notify_one();
  if (done.wait_for(std::chrono::microseconds(options_.record_timeout_us)) != std::future_status::ready) {
    failed_->Increment();
    return absl::UnavailableError("the self-audit record was not stored within " +
                                  std::to_string(options_.record_timeout_us / 1000) + " ms");
  }
  Status status = done.get();
  (status.ok() ? stored_ : failed_)->Increment();
  return status;
}

void SelfAuditor::Run() {
  while (true) {
    std::vector<std::shared_ptr<Waiter>> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, everything stored
      while (!queue_.empty() && group.size() < options_.max_calls_per_batch) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Status> outcomes = StoreGroup(group);
    for (size_t i = 0; i < group.size(); ++i) group[i]->done.set_value(outcomes[i]);
  }
}

std::vector<Status> SelfAuditor::StoreGroup(const std::vector<std::shared_ptr<Waiter>>& group) {
  auto fail_all = [&](const Status& status) { return std::vector<Status>(group.size(), status); };
  if (Status s = LoadCredentials(); !s.ok()) {
    logger_->Error("self-audit: cannot read the collector's certificate or key", {{"error", s.ToString()}});
    if (credentials_.signer == nullptr) return fail_all(absl::UnavailableError(s.message()));
  }
  v1::Batch batch;
  batch.set_agent_id(agent_id_);
  batch.set_epoch(epoch_);
  batch.set_sequence(next_sequence_);
  batch.set_prev_batch_hash(DigestToString(prev_batch_hash_));
  const int64_t now = NowMicros();
  batch.set_created_time_us(now);
  for (const auto& waiter : group) {
    batch.add_events()->set_raw_json(RenderAuditRecord(waiter->call, options_.record, NewUuidV4(), NewUuidV4()));
  }
  if (Status s = SealBatch(*credentials_.signer, &batch); !s.ok()) {
    return fail_all(absl::UnavailableError("self-audit: cannot sign: " + std::string(s.message())));
  }
  auto ingest = std::make_unique<IngestBatch>();
  IngestRefusal refusal;
  if (!credentials_.validator->Validate(batch, now, ingest.get(), &refusal)) {
    logger_->Error("self-audit: batch refused", {{"rule", refusal.rule}, {"message", refusal.message}});
    return fail_all(absl::InternalError("self-audit batch refused (" + refusal.rule + "): " + refusal.message));
  }
  std::vector<Status> outcomes(group.size());
  for (const RefusedEvent& refused : ingest->refused) {
    logger_->Error("self-audit: record refused", {{"rule", refused.rule}, {"message", refused.message}});
    outcomes[refused.leaf_index] = absl::InternalError("self-audit record refused (" + refused.rule + ")");
  }
  const Digest batch_hash = ingest->batch_hash;
  auto outcome = Commit(std::move(ingest));
  if (!outcome.ok()) return fail_all(outcome.status());
  if (outcome->replay) {
    // The store is ahead of us (another writer of this identity?): continue its chain and say so.
    logger_->Error("self-audit: sequence already stored; continuing the stored chain",
                   {{"agent", agent_id_}, {"sequence", next_sequence_}});
    ContinueChainOf(agent_id_);
    return fail_all(absl::UnavailableError("self-audit sequence conflict; retry the call"));
  }
  ++next_sequence_;
  prev_batch_hash_ = batch_hash;
  return outcomes;
}

StatusOr<BatchOutcome> SelfAuditor::Commit(std::unique_ptr<IngestBatch> batch) {
  auto promise = std::make_shared<std::promise<std::pair<Status, BatchOutcome>>>();
  std::future<std::pair<Status, BatchOutcome>> future = promise->get_future();
  committer_->Submit(std::move(batch), [promise](const Status& status, const BatchOutcome& outcome) {
    promise->set_value({status, outcome});
  });
  auto [status, outcome] = future.get();  // the committer always answers, also when failed or stopped
  if (!status.ok()) return status;
  return outcome;
}

}  // namespace orgtrail::collector
