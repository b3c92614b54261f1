// CommitFollower: following the commit order on a thread (see commit_follower.h).
#include "collector/store/commit_follower.h"

#include <chrono>
#include <utility>
#include <vector>

#include "orgtrail/common/thread_role.h"

namespace orgtrail::collector {

CommitFollower::CommitFollower(EventStore* store, Logger* logger, MetricsRegistry* metrics,
                               CommitFollowerOptions options)
    : store_(store), logger_(logger), metrics_(metrics), options_(std::move(options)) {
  const std::string help = kFollowerEventReadsHelp;
  reads_from_memory_ = metrics_->GetCounter(kFollowerEventReadsMetric, help,
                                            {{"follower", options_.name}, {"source", "memory"}});
  reads_from_store_ = metrics_->GetCounter(kFollowerEventReadsMetric, help,
                                           {{"follower", options_.name}, {"source", "store"}});
}

CommitFollower::~CommitFollower() { Stop(); }

void CommitFollower::Start(uint64_t cursor, Round round) {
  cursor_ = cursor;
  round_ = std::move(round);
  feed_ = std::make_unique<CommitFeed>(store_);
  EventStore* store = store_;
  std::atomic<uint64_t>* done = &cursor_;
  metrics_->AddGaugeCallback(options_.lag_metric, options_.lag_help, [store, done] {
    const uint64_t last = store->last_commit_index();
    const uint64_t at = done->load();
    return std::vector<std::pair<MetricLabels, double>>{{{}, static_cast<double>(last > at ? last - at : 0)}};
  });
  thread_ = std::thread([this] {
    // Behind the durable commit by design: under load it yields the cores to ingest and catches up.
    SetCurrentThreadRole(options_.name, ThreadPriority::kBackground);
    Run();
  });
}

void CommitFollower::Stop() {
  stop_ = true;
  if (feed_) feed_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

std::string CommitFollower::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

void CommitFollower::Run() {
  while (!stop_) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.idle_wait_us);
    const uint64_t last = feed_->WaitBeyond(cursor_, deadline);
    if (stop_) break;
    if (last <= cursor_) continue;
    if (Status s = round_(last); !s.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        failure_ = options_.name + ": " + s.ToString();
      }
      logger_->Error(options_.name + " stopped", {{"error", s.ToString()}, {"cursor", cursor_.load()}});
      return;
    }
  }
}

StatusOr<uint64_t> CommitFollower::ReadRound(uint64_t last, size_t max_events,
                                             const std::function<void(const StoredEvent&)>& fn) {
  auto reads = store_->ReadCommittedEvents(cursor_, last, max_events, &event_, &value_buffer_,
                                           [&](uint64_t, const StoredEvent& event) {
                                             fn(event);
                                             return Status();
                                           });
  if (!reads.ok()) return reads.status();
  reads_from_memory_->Increment(reads->from_memory);
  reads_from_store_->Increment(reads->from_store);
  return reads->last_read;
}

}  // namespace orgtrail::collector
