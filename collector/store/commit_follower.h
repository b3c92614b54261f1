// CommitFollower: the thread of an engine that runs over every stored event after its durable
// commit, in commit order (collector/findings/ Sigma findings, collector/insights/ Insights). It
// keeps the engine's cursor (the commit index through which the engine is done), waits on the
// CommitFeed for commits beyond it and calls the engine's round with the newest commit index. A
// round reads events with ReadRound, records its results durably with the new cursor, then calls
// Advance. A round that returns an error stops the follower (failure() says "<name>: <error>";
// the engine's next start resumes at its stored cursor). Registers the gauge `lag_metric`:
// commits stored but not yet followed, and counts the events it read by where from:
// orgtrail_follower_event_reads_total{follower,source="memory"|"store"} (RecentEvents or RocksDB).
// Thread safety: Start/Stop from one thread; cursor(), stopping(), failure() from any; ReadRound
// and Advance from the round (the follower's thread).
#ifndef ORGTRAIL_COLLECTOR_STORE_COMMIT_FOLLOWER_H_
#define ORGTRAIL_COLLECTOR_STORE_COMMIT_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "collector/store/commit_feed.h"
#include "collector/store/store.h"
#include "orgtrail/common/logger.h"
#include "orgtrail/common/metrics.h"
#include "orgtrail/common/status.h"

namespace orgtrail::collector {

// The counter family of the events followers read (the Merkle log's appends count in it too, as
// follower="merkle").
inline constexpr char kFollowerEventReadsMetric[] = "orgtrail_follower_event_reads_total";
inline constexpr char kFollowerEventReadsHelp[] =
    "Stored events an engine that follows the commit order read, by where from "
    "(memory: the newest events the store holds in memory; store: RocksDB)";

struct CommitFollowerOptions {
  std::string name;         // "findings", "insights": prefixes failure() and the logs
  std::string lag_metric;   // gauge name, e.g. orgtrail_findings_lag_commits
  std::string lag_help;
  int64_t idle_wait_us = 1'000'000;  // longest wait for new commits before re-checking stop
};

class CommitFollower {
 public:
  // Processes commits after cursor() up to `last` (or part of them: it is called again).
  using Round = std::function<Status(uint64_t last)>;

  CommitFollower(EventStore* store, Logger* logger, MetricsRegistry* metrics, CommitFollowerOptions options);
  ~CommitFollower();
  CommitFollower(const CommitFollower&) = delete;
  CommitFollower& operator=(const CommitFollower&) = delete;

  // Starts the thread at `cursor` (the engine's stored cursor).
  void Start(uint64_t cursor, Round round);
  void Stop();

  // Feeds `fn` the stored events of commits after cursor(), up to `last` and at most `max_events`
  // commits (events removed by retention meanwhile are skipped). Returns the last commit index
  // read: cursor() when nothing was readable yet.
  StatusOr<uint64_t> ReadRound(uint64_t last, size_t max_events, const std::function<void(const StoredEvent&)>& fn);
  void Advance(uint64_t cursor) { cursor_ = cursor; }

  uint64_t cursor() const { return cursor_.load(); }
  bool stopping() const { return stop_.load(); }
  // "" while running; else why it stopped.
  std::string failure() const;

 private:
  void Run();

  EventStore* store_;
  Logger* logger_;
  MetricsRegistry* metrics_;
  CommitFollowerOptions options_;
  Round round_;
  std::unique_ptr<CommitFeed> feed_;
  std::atomic<uint64_t> cursor_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string failure_;
  Counter* reads_from_memory_;
  Counter* reads_from_store_;
  StoredEvent event_;          // ReadRound's: buffers reused from event to event
  std::string value_buffer_;
  std::thread thread_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_COMMIT_FOLLOWER_H_
