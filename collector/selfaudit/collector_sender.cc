// CollectorSender: the collector's own batches (see collector_sender.h).
#include "collector/selfaudit/collector_sender.h"

#include <future>

#include "orgtrail/common/batch.h"
#include "orgtrail/common/identity.h"
#include "orgtrail/common/pki.h"
#include "orgtrail/common/time_util.h"

namespace orgtrail::collector {
namespace {

StatusOr<std::filesystem::file_time_type> ModifiedTime(const std::string& path) {
  std::error_code ec;
  auto time = std::filesystem::last_write_time(path, ec);
  if (ec) return absl::UnavailableError("cannot stat '" + path + "': " + ec.message());
  return time;
}

}  // namespace

StatusOr<std::unique_ptr<CollectorSender>> CollectorSender::Open(CollectorSenderOptions options, EventStore* store,
                                                                 Committer* committer, Logger* logger) {
  if (options.policy.classifier == nullptr) return absl::InvalidArgumentError("collector sender: no classifier");
  std::unique_ptr<CollectorSender> sender(new CollectorSender(std::move(options), store, committer, logger));
  std::lock_guard<std::mutex> lock(sender->mu_);
  if (Status s = sender->LoadCredentials(); !s.ok()) return s;
  return sender;
}

std::string CollectorSender::agent_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return agent_id_;
}

// (Re)reads the certificate and key when either file changed since the last read.
Status CollectorSender::LoadCredentials() {
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
    return absl::InvalidArgumentError("the collector certificate " + options_.cert_path + ": " +
                                      std::string(identity.status().message()));
  }
  if (identity->role != Role::kCollector) {
    return absl::InvalidArgumentError("the collector certificate " + options_.cert_path + " names " +
                                      identity->spiffe_id + ", not spiffe://" + options_.trust_domain +
                                      "/collector/<name>");
  }
  auto signer = Signer::FromPrivateKeyFile(options_.key_path);
  if (!signer.ok()) return signer.status();
  Credentials next;
  next.cert_mtime = *cert_mtime;
  next.key_mtime = *key_mtime;
  next.cert_pem = *pem;
  next.signer = std::move(*signer);
  next.agent_id = identity->spiffe_id;
  credentials_ = std::move(next);
  if (credentials_.agent_id != agent_id_) ContinueChainOf(credentials_.agent_id);
  return Status();
}

StatusOr<BatchValidator*> CollectorSender::ValidatorFor(const std::string& account_id, const std::string& region) {
  auto& slot = credentials_.validators[{account_id, region}];
  if (slot == nullptr) {
    auto identity = IdentityFromCertificatePem(credentials_.cert_pem, options_.trust_domain);
    if (!identity.ok()) return identity.status();
    // The collector's records belong to the batch's account and region.
    identity->account_id = account_id;
    identity->region = region;
    auto peer = MakePeerCredentials(*identity, credentials_.cert_pem);
    if (!peer.ok()) return peer.status();
    slot = std::make_unique<BatchValidator>(options_.policy, std::move(*peer));
  }
  return slot.get();
}

void CollectorSender::ContinueChainOf(const std::string& agent_id) {
  agent_id_ = agent_id;
  std::optional<AgentState> state = store_->GetAgentState(agent_id);
  epoch_ = state.has_value() ? state->epoch + 1 : 1;
  next_sequence_ = state.has_value() ? state->high_water_sequence + 1 : 1;
  prev_batch_hash_ = state.has_value() ? state->last_batch_hash : Digest{};
}

StatusOr<std::vector<Status>> CollectorSender::Send(const std::string& account_id, const std::string& region,
                                                    const std::vector<std::string>& raw_records) {
  if (raw_records.empty()) return absl::InvalidArgumentError("collector sender: no records");
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = LoadCredentials(); !s.ok()) {
    logger_->Error("cannot read the collector's certificate or key", {{"error", s.ToString()}});
    if (credentials_.signer == nullptr) return absl::UnavailableError(s.message());
  }
  auto validator = ValidatorFor(account_id, region);
  if (!validator.ok()) return absl::UnavailableError(validator.status().message());
  v1::Batch batch;
  batch.set_agent_id(agent_id_);
  batch.set_epoch(epoch_);
  batch.set_sequence(next_sequence_);
  batch.set_prev_batch_hash(DigestToString(prev_batch_hash_));
  const int64_t now = NowMicros();
  batch.set_created_time_us(now);
  for (const std::string& raw : raw_records) batch.add_events()->set_raw_json(raw);
  if (Status s = SealBatch(*credentials_.signer, &batch); !s.ok()) {
    return absl::UnavailableError("cannot sign the collector's batch: " + std::string(s.message()));
  }
  auto ingest = std::make_unique<IngestBatch>();
  IngestRefusal refusal;
  if (!(*validator)->Validate(batch, now, ingest.get(), &refusal)) {
    logger_->Error("the collector's own batch was refused", {{"rule", refusal.rule}, {"message", refusal.message}});
    return absl::InternalError("the collector's batch was refused (" + refusal.rule + "): " + refusal.message);
  }
  std::vector<Status> outcomes(raw_records.size());
  for (const RefusedEvent& refused : ingest->refused) {
    logger_->Error("a collector record was refused", {{"rule", refused.rule}, {"message", refused.message}});
    outcomes[refused.leaf_index] = absl::InternalError("record refused (" + refused.rule + "): " + refused.message);
  }
  const Digest batch_hash = ingest->batch_hash;
  auto outcome = Commit(std::move(ingest));
  if (!outcome.ok()) return outcome.status();
  if (outcome->replay) {
    // The store is ahead of us (another writer of this identity?): continue its chain and say so.
    logger_->Error("the collector's sequence is already stored; continuing the stored chain",
                   {{"agent", agent_id_}, {"sequence", next_sequence_}});
    ContinueChainOf(agent_id_);
    return absl::UnavailableError("the collector's batch sequence conflicted; retry");
  }
  ++next_sequence_;
  prev_batch_hash_ = batch_hash;
  return outcomes;
}

StatusOr<BatchOutcome> CollectorSender::Commit(std::unique_ptr<IngestBatch> batch) {
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
