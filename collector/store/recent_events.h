// RecentEvents: the newest committed events as the store wrote them (event key and encoded value),
// kept in memory in commit order, so engines that follow the commit order right behind the writer
// (findings, Insights: commit_follower.h) read them without a RocksDB lookup per event. A bounded
// window: the oldest events are dropped first once the bytes exceed the budget; a reader that is
// further behind, or that starts after a restart, reads the store as before.
// The window always holds consecutive commit indexes: EventStore::CommitGroup appends every event
// it stored, in commit order, after its synced write and before it tells the commit listeners.
// An event that retention removed after its commit may still be read here.
// Thread safety: all methods may be called from any thread (one mutex; Read copies under it).
#ifndef ORGTRAIL_COLLECTOR_STORE_RECENT_EVENTS_H_
#define ORGTRAIL_COLLECTOR_STORE_RECENT_EVENTS_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace orgtrail::collector {

class RecentEvents {
 public:
  struct Entry {
    uint64_t commit_index = 0;
    std::string event_key;
    std::string value;  // as stored in "events": length-prefixed StoredEventMeta, then the raw JSON
  };

  // max_bytes = 0 keeps nothing.
  explicit RecentEvents(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  RecentEvents(const RecentEvents&) = delete;
  RecentEvents& operator=(const RecentEvents&) = delete;

  // Appends a group's events, which must follow the newest held one (else the window restarts at
  // them), then drops the oldest beyond the budget.
  void Append(std::vector<Entry> entries);
  // Copies the event of commit_index into *key and *value (their buffers reused). False when it is
  // not held (dropped, or not committed yet).
  bool Read(uint64_t commit_index, std::string* key, std::string* value) const;

  uint64_t bytes() const;
  size_t size() const;

 private:
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // consecutive commit indexes, oldest first
  uint64_t bytes_ = 0;
};

}  // namespace orgtrail::collector

#endif  // ORGTRAIL_COLLECTOR_STORE_RECENT_EVENTS_H_
