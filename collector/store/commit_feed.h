// CommitFeed: wakes readers that follow the store's commit order
// (subscriptions, alarms) when new events are durably stored.
//
// It registers one EventStore commit listener (construct it after the store
// is open and before ingest starts). The listener only records the highest
// commit index and signals a condition variable: it never blocks the writer.
// Readers then walk EventStore::NewCommitIterator themselves.
// Thread safety: every method may be called from any thread. The listener
// shares its state through a shared_ptr, so destroying the feed while the
// store still runs is safe (later commits are then ignored).
#ifndef ORGTRAIL_COLLECTOR_STORE_COMMIT_FEED_H_
#define ORGTRAIL_COLLECTOR_STORE_COMMIT_FEED_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "collector/store/store.h"

namespace orgtrail::collector {

class CommitFeed {
 public:
  explicit CommitFeed(EventStore* store);
  ~CommitFeed();
  CommitFeed(const CommitFeed&) = delete;
  CommitFeed& operator=(const CommitFeed&) = delete;

  // Highest durable commit index seen (initially the store's).
  uint64_t last() const;
  // Blocks until last() > after, Shutdown() or the deadline; returns last().
  uint64_t WaitBeyond(uint64_t after, std::chrono::steady_clock::time_point deadline) const;
  // Wakes every waiter; later waits return at once.
  void Shutdown();
  bool shut_down() const;

 private:
  struct State {
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    uint64_t last = 0;
    bool shut_down = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_COMMIT_FEED_H_
