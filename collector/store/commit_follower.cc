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
  uint64_t done = cursor_;
  size_t events = 0;
  // Right behind the writer, the events are still held in memory (RecentEvents).
  while (done < last && events < max_events) {
    auto recent = store_->ReadRecentEvent(done + 1, &event_, &value_buffer_);
    if (!recent.ok()) return recent.status();
    if (!*recent) break;
    ++done;
    ++events;
    fn(event_);
  }
  reads_from_memory_->Increment(events);
  if (done >= last || events >= max_events) return done;
  const size_t from_memory = events;
  auto it = store_->NewCommitIterator(done + 1);
  for (; it->Valid() && it->commit_index() <= last && events < max_events; it->Next()) {
    done = it->commit_index();
    ++events;
    auto stored = store_->ReadEventByKey(it->event_key(), &event_, &value_buffer_);
    if (!stored.ok()) return stored.status();
    if (*stored) fn(event_);  // else removed by retention meanwhile
  }
  if (!it->status().ok()) return it->status();
  reads_from_store_->Increment(events - from_memory);
  return done;
}

}  // namespace orgtrail::collector
