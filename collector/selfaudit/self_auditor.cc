#include "collector/selfaudit/self_auditor.h"

#include <chrono>

#include "orgtrail/common/time_util.h"
#include "orgtrail/common/uuid.h"

namespace orgtrail::collector {
SelfAuditor::SelfAuditor(SelfAuditOptions options, std::unique_ptr<CollectorSender> sender, Logger* logger,
                         MetricsRegistry* metrics)
    : options_(std::move(options)), sender_(std::move(sender)), logger_(logger) {
  const std::string help = "Self-audit records of calls to the query, investigation, admin and integrity services";
  stored_ = metrics->GetCounter("orgtrail_collector_self_audit_records_total", help, {{"outcome", "stored"}});
  failed_ = metrics->GetCounter("orgtrail_collector_self_audit_records_total", help, {{"outcome", "failed"}});
}

SelfAuditor::~SelfAuditor() { Stop(); }

StatusOr<std::unique_ptr<SelfAuditor>> SelfAuditor::Open(SelfAuditOptions options, EventStore* store,
                                                         Committer* committer, Logger* logger,
                                                         MetricsRegistry* metrics) {
  if (options.policy.classifier == nullptr) return absl::InvalidArgumentError("self-audit: no classifier");
  CollectorSenderOptions sender_options;
  sender_options.trust_domain = options.trust_domain;
  sender_options.cert_path = options.cert_path;
  sender_options.key_path = options.key_path;
  sender_options.policy = options.policy;
  auto sender = CollectorSender::Open(std::move(sender_options), store, committer, logger);
  if (!sender.ok()) return Status(sender.status().code(), "self-audit: " + std::string(sender.status().message()));
  std::unique_ptr<SelfAuditor> auditor(new SelfAuditor(std::move(options), std::move(*sender), logger, metrics));
  return auditor;
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
  std::vector<std::string> records;
  for (const auto& waiter : group) {
    records.push_back(RenderAuditRecord(waiter->call, options_.record, NewUuidV4(), NewUuidV4()));
  }
  // The records belong to the management account and the home region.
  auto outcomes = sender_->Send(options_.record.management_account_id, options_.record.home_region, records);
  if (!outcomes.ok()) {
    logger_->Error("self-audit: records not stored", {{"error", outcomes.status().ToString()}});
    return std::vector<Status>(group.size(), outcomes.status());
  }
  return *outcomes;
}

}  // namespace orgtrail::collector
