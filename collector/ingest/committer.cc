#include "collector/ingest/committer.h"

#include <chrono>

#include "orgtrail/common/thread_role.h"

namespace orgtrail::collector {
namespace {

std::vector<double> CountBuckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536}; }

}  // namespace

Committer::Committer(EventStore* store, Logger* logger, MetricsRegistry* metrics, CommitterOptions options)
    : store_(store), logger_(logger), options_(options) {
  synced_write_seconds_ = metrics->GetHistogram("orgtrail_collector_synced_write_seconds",
                                                "Latency of synced RocksDB group-commit writes");
  group_batches_ = metrics->GetHistogram("orgtrail_collector_group_commit_batches",
                                         "Batches per group commit", {}, CountBuckets());
  group_events_ = metrics->GetHistogram("orgtrail_collector_group_commit_events",
                                        "Events per group commit", {}, CountBuckets());
  events_stored_ = metrics->GetCounter("orgtrail_collector_events_stored_total", "Events durably stored");
  events_duplicate_ = metrics->GetCounter("orgtrail_collector_events_deduplicated_total",
                                          "Events skipped because their (account, eventID) was already stored "
                                          "with the same bytes");
  events_conflict_ = metrics->GetCounter("orgtrail_collector_event_conflicts_total",
                                         "Events whose (account, eventID) was already stored with other bytes "
                                         "(kept in the conflicts column family, orgtrailctl list-conflicts)");
  metrics_ = metrics;
  identity_violations_ = metrics->GetCounter(
      "orgtrail_collector_identity_violations_total",
      "Events refused because they name another account or region than their sender's certificate "
      "(kept as evidence, orgtrailctl list-refused --identity-violations)");
  batches_stored_ = metrics->GetCounter("orgtrail_collector_batches_stored_total", "Batches durably stored");
  batches_replayed_ = metrics->GetCounter("orgtrail_collector_batches_replayed_total",
                                          "Batches at or below the agent's high-water mark (acked, not stored)");
  chain_breaks_ = metrics->GetCounter("orgtrail_collector_batch_chain_breaks_total",
                                      "Batches whose prev_batch_hash differs from the stored last batch hash");
  group_commits_ = metrics->GetCounter("orgtrail_collector_group_commits_total", "Synced group commits");
  write_failures_ = metrics->GetCounter("orgtrail_collector_write_failures_total", "Failed synced writes");
  fail_stop_ = metrics->GetGauge("orgtrail_collector_fail_stop", "1 when the collector stopped acknowledging");
}

Committer::~Committer() { Stop(); }

void Committer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadRole("committer");
    Run();
  });
}

void Committer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Anything submitted after the thread ended is refused.
  std::deque<Pending> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& p : left) p.callback(absl::UnavailableError("collector is shutting down"), BatchOutcome());
}

void Committer::Submit(std::unique_ptr<IngestBatch> batch, Callback callback) {
  Status refuse;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) {
      refuse = absl::UnavailableError("fail-stop: " + failure_reason_);
    } else if (stopping_ || !thread_.joinable()) {
      refuse = absl::UnavailableError("collector is shutting down");
    } else {
      queue_.push_back(Pending{std::move(batch), std::move(callback)});
    }
  }
  if (!refuse.ok()) {
    callback(refuse, BatchOutcome());
    return;
  }
  cv_.notify_one();
}

bool Committer::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

std::string Committer::failure_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_reason_;
}

size_t Committer::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Committer::Run() {
  for (;;) {
    std::vector<Pending> group;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t events = 0;
      while (!queue_.empty() && group.size() < options_.max_group_batches &&
             (group.empty() || events + queue_.front().batch->events.size() <= options_.max_group_events)) {
        events += queue_.front().batch->events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      failed = failed_;
    }
    if (failed) {
      Status refuse = absl::UnavailableError("fail-stop: " + failure_reason());
      for (auto& p : group) p.callback(refuse, BatchOutcome());
      continue;
    }
    CommitOne(&group);
  }
}

void Committer::CommitOne(std::vector<Pending>* group) {
  std::vector<const IngestBatch*> batches;
  size_t events = 0;
  for (const auto& p : *group) {
    batches.push_back(p.batch.get());
    events += p.batch->events.size();
  }
  auto start = std::chrono::steady_clock::now();
  StatusOr<GroupCommitResult> result = store_->CommitGroup(batches);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    write_failures_->Increment();
    EnterFailStop(result.status());
    Status refuse = absl::UnavailableError("fail-stop: " + result.status().ToString());
    for (auto& p : *group) p.callback(refuse, BatchOutcome());
    return;
  }
  if (result->write_batch_bytes > 0) {
    synced_write_seconds_->Observe(seconds);
    group_commits_->Increment();
    group_batches_->Observe(static_cast<double>(group->size()));
    group_events_->Observe(static_cast<double>(events));
  }
  for (const ConflictRecord& conflict : result->conflicts) {
    logger_->Error("event conflict: eventID already stored in this account with other bytes; both kept",
                   {{"account", conflict.account_id}, {"event_id", conflict.event_id},
                    {"agent", conflict.agent_id}, {"seq", conflict.sequence}, {"leaf_index", conflict.leaf_index}});
  }
  for (const RefusedRecord& refused : result->refused) {
    metrics_
        ->GetCounter("orgtrail_collector_events_refused_total",
                     "Events refused one by one, by rule (their batch's other events stored; "
                     "orgtrailctl list-refused)",
                     {{"rule", refused.rule}})
        ->Increment();
    if (refused.identity_violation) identity_violations_->Increment();
    logger_->Log(refused.identity_violation ? LogLevel::kError : LogLevel::kWarn,
                 refused.identity_violation
                     ? "identity violation: an agent sent an event of another account or region; refused and "
                       "kept as evidence"
                     : "event refused; the other events of its batch are stored",
                 {{"agent", refused.agent_id},
                  {"seq", refused.sequence},
                  {"leaf_index", refused.leaf_index},
                  {"event_id", refused.event_id},
                  {"rule", refused.rule},
                  {"detail", refused.message},
                  {"raw_json_kept", !refused.raw_json_dropped}});
  }
  for (size_t i = 0; i < group->size(); ++i) {
    const BatchOutcome& outcome = result->outcomes[i];
    const IngestBatch& b = *(*group)[i].batch;
    if (outcome.replay) {
      batches_replayed_->Increment();
    } else {
      batches_stored_->Increment();
      events_stored_->Increment(outcome.events_stored);
      events_duplicate_->Increment(outcome.events_duplicate);
      events_conflict_->Increment(outcome.events_conflict);
    }
    if (outcome.chain_break) {
      chain_breaks_->Increment();
      logger_->Warn("batch chain break", {{"agent", b.agent_id}, {"seq", b.sequence}});
    }
    (*group)[i].callback(Status(), outcome);
  }
}

void Committer::EnterFailStop(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return;
    failed_ = true;
    failure_reason_ = "synced write failed: " + status.ToString();
  }
  fail_stop_->Set(1);
  logger_->Error("fail-stop: synced write failed; no further batch will be acknowledged",
                 {{"error", status.ToString()}});
}

}  // namespace orgtrail::collector
